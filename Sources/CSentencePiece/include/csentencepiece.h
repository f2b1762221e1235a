// C interface over Debian's libsentencepiece (sentencepiece::SentencePieceProcessor), so Swift
// can load a SentencePiece model and encode text to piece ids without touching C++.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opaque sentencepiece processor (C wrapper over sentencepiece::SentencePieceProcessor).
typedef struct skipdit_spm skipdit_spm;

/// Loads a model file. Returns NULL on failure and writes a NUL-terminated message (truncated
/// to `error_capacity` bytes) into `error` when it is not NULL.
skipdit_spm *skipdit_spm_load(const char *path, char *error, size_t error_capacity);

/// Frees a processor from skipdit_spm_load (NULL is allowed).
void skipdit_spm_free(skipdit_spm *spm);

/// Encodes `length` bytes of UTF-8 text to piece ids. Writes at most `capacity` ids into `ids`
/// and returns the total number of ids (which may exceed `capacity`: call again with a larger
/// buffer), or -1 on failure with a message in `error`.
int64_t skipdit_spm_encode(const skipdit_spm *spm, const char *text, size_t length, int32_t *ids,
                           size_t capacity, char *error, size_t error_capacity);

/// Number of pieces in the model's vocabulary.
int32_t skipdit_spm_piece_count(const skipdit_spm *spm);

/// Id of a piece string, or the unk id if the piece is not in the vocabulary.
int32_t skipdit_spm_piece_to_id(const skipdit_spm *spm, const char *piece);

/// The piece string of `id` copied (NUL-terminated, truncated) into `out`; returns its full
/// byte length, or -1 when `id` is out of range.
int64_t skipdit_spm_id_to_piece(const skipdit_spm *spm, int32_t id, char *out, size_t capacity);

/// Special ids (-1 when the model has none).
int32_t skipdit_spm_unk_id(const skipdit_spm *spm);
int32_t skipdit_spm_eos_id(const skipdit_spm *spm);
int32_t skipdit_spm_bos_id(const skipdit_spm *spm);
int32_t skipdit_spm_pad_id(const skipdit_spm *spm);

/// 1 when `id` is a control symbol (such as </s> or <pad>), else 0.
int32_t skipdit_spm_is_control(const skipdit_spm *spm, int32_t id);

#ifdef __cplusplus
}
#endif
