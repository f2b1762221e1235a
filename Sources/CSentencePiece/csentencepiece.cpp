// The C wrapper declared in csentencepiece.h: every sentencepiece call is checked and C++
// exceptions never cross the C boundary.
#include "csentencepiece.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

struct skipdit_spm {
    sentencepiece::SentencePieceProcessor processor;
};

static void write_error(char *error, size_t capacity, const std::string &message) {
    if (error == nullptr || capacity == 0) return;
    size_t n = message.size() < capacity - 1 ? message.size() : capacity - 1;
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
}

extern "C" skipdit_spm *skipdit_spm_load(const char *path, char *error, size_t error_capacity) {
    if (path == nullptr) {
        write_error(error, error_capacity, "no path");
        return nullptr;
    }
    try {
        // Owned until returned: sentencepiece throws for some malformed models (darts_clone's
        // "zero-length key" for an empty piece), and the processor must not leak then.
        std::unique_ptr<skipdit_spm> spm(new skipdit_spm());
        const auto status = spm->processor.Load(path);
        if (!status.ok()) {
            write_error(error, error_capacity, status.ToString());
            return nullptr;
        }
        return spm.release();
    } catch (const std::exception &e) {
        write_error(error, error_capacity, e.what());
        return nullptr;
    } catch (...) {
        write_error(error, error_capacity, "unknown C++ exception");
        return nullptr;
    }
}

extern "C" void skipdit_spm_free(skipdit_spm *spm) { delete spm; }

extern "C" int64_t skipdit_spm_encode(const skipdit_spm *spm, const char *text, size_t length, int32_t *ids,
                                      size_t capacity, char *error, size_t error_capacity) {
    if (spm == nullptr || (text == nullptr && length > 0)) {
        write_error(error, error_capacity, "null processor or text");
        return -1;
    }
    try {
        std::vector<int> out;
        const auto status = spm->processor.Encode(std::string(text == nullptr ? "" : text, length), &out);
        if (!status.ok()) {
            write_error(error, error_capacity, status.ToString());
            return -1;
        }
        for (size_t i = 0; i < out.size() && i < capacity && ids != nullptr; ++i) ids[i] = out[i];
        return static_cast<int64_t>(out.size());
    } catch (const std::exception &e) {
        write_error(error, error_capacity, e.what());
        return -1;
    } catch (...) {
        write_error(error, error_capacity, "unknown C++ exception");
        return -1;
    }
}

extern "C" int32_t skipdit_spm_piece_count(const skipdit_spm *spm) {
    return spm == nullptr ? 0 : spm->processor.GetPieceSize();
}

extern "C" int32_t skipdit_spm_piece_to_id(const skipdit_spm *spm, const char *piece) {
    if (spm == nullptr || piece == nullptr) return -1;
    return spm->processor.PieceToId(piece);
}

extern "C" int64_t skipdit_spm_id_to_piece(const skipdit_spm *spm, int32_t id, char *out, size_t capacity) {
    if (spm == nullptr || id < 0 || id >= spm->processor.GetPieceSize()) return -1;
    const std::string &piece = spm->processor.IdToPiece(id);
    if (out != nullptr && capacity > 0) {
        size_t n = piece.size() < capacity - 1 ? piece.size() : capacity - 1;
        std::memcpy(out, piece.data(), n);
        out[n] = '\0';
    }
    return static_cast<int64_t>(piece.size());
}

extern "C" int32_t skipdit_spm_unk_id(const skipdit_spm *spm) { return spm == nullptr ? -1 : spm->processor.unk_id(); }
extern "C" int32_t skipdit_spm_eos_id(const skipdit_spm *spm) { return spm == nullptr ? -1 : spm->processor.eos_id(); }
extern "C" int32_t skipdit_spm_bos_id(const skipdit_spm *spm) { return spm == nullptr ? -1 : spm->processor.bos_id(); }
extern "C" int32_t skipdit_spm_pad_id(const skipdit_spm *spm) { return spm == nullptr ? -1 : spm->processor.pad_id(); }

extern "C" int32_t skipdit_spm_is_control(const skipdit_spm *spm, int32_t id) {
    if (spm == nullptr || id < 0 || id >= spm->processor.GetPieceSize()) return 0;
    return spm->processor.IsControl(id) ? 1 : 0;
}
