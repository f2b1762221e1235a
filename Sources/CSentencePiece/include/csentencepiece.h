#pragma once
#ifdef __cplusplus
extern "C" {
#endif
/// Opaque sentencepiece processor (C wrapper over sentencepiece::SentencePieceProcessor).
typedef struct skipdit_spm skipdit_spm;
#ifdef __cplusplus
}
#endif
