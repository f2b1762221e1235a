// ModelFileCheck: are the files of each registry entry there, readable, and in the formats the entry
// implies? Headers only: the torch zip's central directory and pickle, safetensors JSON headers, the
// config.json files, the tokenizer model. Files are memory-mapped and tensor data is never touched,
// so a multi-GB checkpoint takes milliseconds. `skipdit validate --config` and the daemon (start-up
// and reload) run it; a model that fails is refused on its own (DaemonConfig.modelProblems), with a
// problem naming the model, the file and what is wrong with it.
//
// What is read, per task (the files ModelCache and the text-to-video pipeline load):
//   class-to-video: checkpoint (state dict under "ema"/"model", Latte config from the tensor shapes,
//                   class count against the entry), vae/config.json + vae weights header, or a
//                   single VAE weights file (config.json beside it, else its config from its shapes)
//   text-to-video:  base/transformer/{config.json, diffusion_pytorch_model.*},
//                   base/text_encoder/{config.json, weights}, base/tokenizer/{spiece.model, *.json},
//                   base/scheduler/scheduler_config.json (optional), checkpoint (Latte-skip.pt),
//                   vae (default base/vae_temporal_decoder): config.json + weights header

import Checkpoints
import Diffusion
import Foundation
import Jobs
import Latte
import TextEncoder
import VAE

/// Header-only checks of the files each model of a configuration names.
public enum ModelFileCheck {
    /// `config` with `modelProblems` set from checking every model.
    public static func checked(_ config: DaemonConfig) -> DaemonConfig {
        var result = config
        result.modelProblems = problems(in: config)
        return result
    }

    /// The problem of each model of `config` that fails its check; only the models in `names` when given.
    public static func problems(in config: DaemonConfig, only names: Set<String>? = nil) -> [String: ModelProblem] {
        var found: [String: ModelProblem] = [:]
        for entry in config.models where names?.contains(entry.name) ?? true {
            do throws(ModelProblem) {
                try check(entry, configFile: config.file)
            } catch {
                found[entry.name] = error
            }
        }
        return found
    }

    /// Checks one model's files and throws the first problem found. `configFile` is named in hints.
    public static func check(_ entry: ModelEntry, configFile: String) throws(ModelProblem) {
        let probe = ModelFileProbe(entry: entry, configFile: configFile)
        switch entry.task {
        case .classToVideo:
            try checkClassToVideoCheckpoint(probe)
            try checkVAE(probe, folder: entry.vae, direct: true)
        case .textToVideo:
            guard let base = entry.base else {
                throw probe.problem(
                    "base", configFile, .missing, "is not given",
                    hint: "add `base:` (the Latte-0 pipeline folder) to model '\(entry.name)'")
            }
            try checkBase(probe, base)
            try checkSkipCheckpoint(probe)
            let defaultVAE = base.appendingPathComponent("vae_temporal_decoder").standardizedFileURL
            try checkVAE(probe, folder: entry.vae, direct: entry.vae.standardizedFileURL != defaultVAE)
        }
    }

    // MARK: checkpoints

    /// A class-to-video `*-skip.pt`: its state dict, the Latte shape it describes, and its class count.
    private static func checkClassToVideoCheckpoint(_ probe: ModelFileProbe) throws(ModelProblem) {
        let entry = probe.entry
        let url = entry.checkpoint
        let stateDict = try skipStateDict(probe, what: "the Skip-DiT class-to-video checkpoint (*-skip.pt)")
        let latte: LatteConfig
        do {
            latte = try LatteConfig(shapes: stateDict.tensors.mapValues(\.shape), numHeads: entry.heads)
        } catch {
            throw probe.problem(
                error, key: "checkpoint", path: url, what: "a class-to-video Latte-skip checkpoint",
                hint:
                    "class-to-video models need a Skip-DiT *-skip.pt; a hidden size that is not an official Latte size needs `heads:`"
            )
        }
        let found = latte.numClasses ?? 0
        guard found != entry.numClasses else { return }
        let reason: String
        let hint: String
        if entry.numClasses == 0 {
            reason = "is class-conditional with \(found) classes, but the entry makes the model unconditional"
            hint = "give model '\(entry.name)' `num_classes: \(found)` or a `classes:` list of \(found) names"
        } else if found == 0 {
            reason = "is unconditional (it has no class embedding), but the entry gives \(entry.numClasses) classes"
            hint =
                "remove `classes`/`num_classes` from model '\(entry.name)' (presets ffs, sky and taichi are unconditional)"
        } else {
            reason = "has \(found) classes, but the entry gives \(entry.numClasses)"
            hint = "make `num_classes`/`classes` of model '\(entry.name)' give \(found) classes, in label order"
        }
        throw probe.problem("checkpoint", url.path, .mismatch, reason, hint: hint + " in \(probe.configFile)")
    }

    /// The text-to-video `Latte-skip.pt`: a state dict under "ema"/"model".
    private static func checkSkipCheckpoint(_ probe: ModelFileProbe) throws(ModelProblem) {
        _ = try skipStateDict(probe, what: "the Skip-DiT text-to-video checkpoint (Latte-skip.pt)")
    }

    /// The entry's checkpoint (a file, or a folder holding one) opened and its state dict found.
    private static func skipStateDict(_ probe: ModelFileProbe, what: String) throws(ModelProblem) -> StateDict {
        let url = probe.entry.checkpoint
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            try probe.requireFolder(url, key: "checkpoint", what: what, direct: true)
        } else {
            try probe.requireFile(url, key: "checkpoint", what: what, direct: true)
        }
        do throws(CheckpointError) {
            return try Checkpoint.open(url).stateDict(preferring: ["ema", "model"])
        } catch {
            throw probe.problem(error, key: "checkpoint", folder: isFolder.boolValue ? url : nil)
        }
    }

    /// A weights file (or a folder holding one) opened and read as a plain state dict.
    private static func checkWeights(_ probe: ModelFileProbe, _ url: URL, key: String) throws(ModelProblem) {
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder)
        do throws(CheckpointError) {
            _ = try Checkpoint.open(url).stateDict()
        } catch {
            throw probe.problem(error, key: key, folder: isFolder.boolValue ? url : nil)
        }
    }

    // MARK: VAE

    /// A diffusers VAE folder: config.json (2-D AutoencoderKL or temporal decoder) and its weights;
    /// or a single weights file (checkSingleFileVAE). `direct`: the entry's `vae:` names it (else it
    /// defaults to BASE/vae_temporal_decoder).
    private static func checkVAE(_ probe: ModelFileProbe, folder: URL, direct: Bool) throws(ModelProblem) {
        let key = direct || probe.entry.base == nil ? "vae" : "base"
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            try checkSingleFileVAE(probe, file: folder, key: key, direct: direct)
            return
        }
        let what =
            probe.entry.task == .classToVideo
            ? "the VAE folder (sd-vae-ft-ema: config.json and diffusion_pytorch_model.safetensors)"
            : "the VAE folder (vae_temporal_decoder: config.json and diffusion_pytorch_model.safetensors)"
        try probe.requireFolder(folder, key: key, what: what, direct: direct)
        let configURL = folder.appendingPathComponent("config.json")
        try probe.requireFile(configURL, key: key, what: "the VAE's config.json")
        do throws(VAEError) {
            if VAEWeights.describesTemporalDecoder(configURL) {
                _ = try TemporalDecoderConfig.load(configURL)
            } else {
                _ = try AutoencoderKLConfig.load(configURL)
            }
        } catch {
            throw probe.problem(error, key: key, folder: folder)
        }
        try checkWeights(probe, folder, key: key)
    }

    /// A VAE given as one weights file (.safetensors/.ckpt/.pt/.bin): the config.json beside it when
    /// there is one, else the configuration its tensor shapes describe (as ModelCache loads it); the
    /// state dict is read either way (headers only).
    private static func checkSingleFileVAE(_ probe: ModelFileProbe, file: URL, key: String, direct: Bool)
        throws(ModelProblem)
    {
        try probe.requireFile(file, key: key, what: "the VAE weights file", direct: direct)
        do throws(VAEError) {
            switch VAEWeights.configSource(for: file) {
            case .file(let configURL):
                if VAEWeights.describesTemporalDecoder(configURL) {
                    _ = try TemporalDecoderConfig.load(configURL)
                } else {
                    _ = try AutoencoderKLConfig.load(configURL)
                }
                _ = try VAEWeights.stateDict(file)
            case .inferredFromShapes:
                _ = try AutoencoderKLConfig.inferred(weights: file)
            }
        } catch {
            throw probe.problem(error, key: key, folder: nil)
        }
    }

    // MARK: text-to-video base folder

    /// The Latte-0 pipeline folder: transformer, text encoder, tokenizer and (optional) scheduler.
    private static func checkBase(_ probe: ModelFileProbe, _ base: URL) throws(ModelProblem) {
        try probe.requireFolder(
            base, key: "base", what: "the Latte-0 pipeline folder (transformer/, text_encoder/, tokenizer/)",
            direct: true)

        let transformer = base.appendingPathComponent("transformer")
        try probe.requireFolder(transformer, key: "base", what: "the pipeline's transformer/ folder")
        let transformerConfig = transformer.appendingPathComponent("config.json")
        try probe.requireFile(transformerConfig, key: "base", what: "the transformer's config.json")
        do {
            _ = try LatteT2VConfig.load(transformerConfig)
        } catch {
            throw probe.problem(
                error, key: "base", path: transformerConfig, what: "a usable LatteT2V transformer config",
                hint: "transformer/config.json must be the Latte-0 LatteT2V config")
        }
        let candidates = [
            "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json",
            "diffusion_pytorch_model.bin", "diffusion_pytorch_model.bin.index.json",
        ]
        guard let weights = candidates.map({ transformer.appendingPathComponent($0) }).first(where: probe.exists) else {
            throw probe.problem(
                "base", transformer.appendingPathComponent(candidates[0]).path, .missing,
                "does not exist (nor a .bin or sharded variant)",
                hint: "the transformer's weights belong there; the folder is incomplete (copy or download it again)")
        }
        try probe.requireFile(weights, key: "base", what: "the transformer's weights")
        try checkWeights(probe, weights, key: "base")

        let textEncoder = base.appendingPathComponent("text_encoder")
        try probe.requireFolder(textEncoder, key: "base", what: "the pipeline's text_encoder/ folder (T5)")
        let t5Config = textEncoder.appendingPathComponent("config.json")
        try probe.requireFile(t5Config, key: "base", what: "the text encoder's config.json")
        do throws(TextEncoderError) {
            _ = try T5Config.load(t5Config)
        } catch {
            throw probe.problem(error, key: "base", fallback: t5Config)
        }
        try checkWeights(probe, textEncoder, key: "base")

        let tokenizer = base.appendingPathComponent("tokenizer")
        try probe.requireFolder(tokenizer, key: "base", what: "the pipeline's tokenizer/ folder")
        try probe.requireFile(
            tokenizer.appendingPathComponent("spiece.model"), key: "base", what: "the T5 sentencepiece model")
        do throws(TextEncoderError) {
            _ = try T5Tokenizer(directory: tokenizer)
        } catch {
            throw probe.problem(error, key: "base", fallback: tokenizer)
        }

        // Optional, as for the renderer; when present it must parse.
        let scheduler = base.appendingPathComponent("scheduler/scheduler_config.json")
        guard probe.exists(scheduler) else { return }
        try probe.requireFile(scheduler, key: "base", what: "the scheduler's scheduler_config.json")
        do {
            _ = try JSONDecoder().decode(DDIMSchedulerConfig.self, from: Data(contentsOf: scheduler))
        } catch {
            throw probe.problem(
                error, key: "base", path: scheduler, what: "a usable DDIM scheduler config",
                hint: "fix or remove scheduler/scheduler_config.json (the defaults of sample_t2v.py apply without it)")
        }
    }
}
