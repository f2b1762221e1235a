// Where a VAE's weights and configuration come from (spec vae-decoder.md §6): a diffusers folder
// (config.json next to diffusion_pytorch_model.*), a single weights file with a config.json beside
// it, or a single file without one (.safetensors/.ckpt/.pt/.bin in LDM, legacy or diffusers naming,
// possibly a whole SD checkpoint under `first_stage_model.`), whose configuration is then inferred
// from its tensor shapes as diffusers' single-file loader does (AutoencoderKLConfig+Inferred.swift).
// A Lightning `.ckpt` keeps its tensors under "state_dict" next to non-tensor entries (global_step).

import Checkpoints
import Foundation

/// Opening a VAE given as a folder or as a single weights file.
public enum VAEWeights {
    /// Where the configuration of a VAE comes from.
    public enum ConfigSource: Equatable, Sendable {
        /// A diffusers config.json: the folder's own, or the one beside a single weights file.
        case file(URL)
        /// None: a single weights file whose configuration is inferred from its tensor shapes.
        case inferredFromShapes
    }

    /// The configuration source of the VAE at `url`: a folder always uses its config.json; a file
    /// uses a config.json beside it when there is one, else its shapes.
    public static func configSource(for url: URL) -> ConfigSource {
        var isFolder: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            return .file(url.appendingPathComponent("config.json"))
        }
        let beside = url.deletingLastPathComponent().appendingPathComponent("config.json")
        return fm.fileExists(atPath: beside.path) ? .file(beside) : .inferredFromShapes
    }

    /// True when the config.json at `url` is an `AutoencoderKLTemporalDecoder`'s (SVD, Latte
    /// vae_temporal_decoder) rather than a 2-D AutoencoderKL's; false when it cannot be read.
    public static func describesTemporalDecoder(_ url: URL) -> Bool {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").contains("AutoencoderKLTemporalDecoder")
    }

    /// The state dict of a weights file (or a model folder's weights file): the `state_dict` entry
    /// of a Lightning checkpoint when there is one, else the top-level dict. Reads headers only.
    public static func stateDict(_ url: URL) throws(VAEError) -> StateDict {
        do throws(CheckpointError) {
            let checkpoint = try Checkpoint.open(url)
            if case .dict(let top) = checkpoint.root, case .dict? = top["state_dict"] {
                return try checkpoint.stateDict(preferring: ["state_dict"])
            }
            return try checkpoint.stateDict()
        } catch {
            throw .weights(error, naming: nil)
        }
    }
}
