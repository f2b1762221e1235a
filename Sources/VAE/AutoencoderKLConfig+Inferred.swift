// The configuration of a VAE given as one weights file without config.json (an LDM
// `vae-ft-ema-560000-ema-pruned.safetensors/.ckpt`, a full SD checkpoint's `first_stage_model.*`,
// or a bare diffusers-named file), inferred from its tensor names and shapes. This reproduces
// diffusers' single-file loader (diffusers/loaders/single_file_utils.py:
// create_vae_diffusers_config_from_ldm + convert_ldm_vae_checkpoint): the widths ch·ch_mult,
// num_res_blocks and z_channels it reads from the LDM yaml are exactly what the tensors embody, and
// everything else takes diffusers' defaults: norm_num_groups 32, act_fn silu, UpDecoderBlock2D,
// scaling_factor 0.18215 (LDM_VAE_DEFAULT_SCALING_FACTOR), no shift_factor.
//
// Tensors read (current diffusers names, looked up in the file's own naming and prefix):
//   decoder.conv_in.weight                         [C_top, C_lat, 3, 3] -> latent_channels
//   decoder.up_blocks.{i}.resnets.{j}.conv1.weight count per block      -> layers_per_block + 1
//   decoder.up_blocks.{i}.resnets.0.conv2.weight   [C_i, C_i, 3, 3]     -> block_out_channels[L−1−i]
//   decoder.conv_out.weight                        [C_out, C_0, 3, 3]   -> out_channels
//   post_quant_conv.weight, decoder.mid_block.attentions.0.to_q.weight: present or not
// (LDM stores up block i as decoder.up.{L−1−i}; VAEKeyNaming maps the names.) Only names and shapes
// are read, never tensor data; strict loading then checks every tensor against the result.
// Legend: L levels, C channels.

import Checkpoints
import Foundation

extension AutoencoderKLConfig {
    /// diffusers' default norm_num_groups, which a single file's tensors cannot record.
    public static let defaultNormNumGroups = 32

    /// The configuration a config-less weights file describes, as diffusers' single-file loader
    /// builds it. `normNumGroups` and `scalingFactor` are not recorded in tensors; they default to
    /// diffusers' values. Throws naming the tensor that is missing or has an odd shape.
    public static func inferred(
        from stateDict: StateDict, normNumGroups: Int = defaultNormNumGroups,
        scalingFactor: Double = defaultScalingFactor
    ) throws(VAEError) -> AutoencoderKLConfig {
        let shapes = InferenceShapes(stateDict)
        // conv_in first: a file without it is no VAE decoder at all (its name needs no level count).
        let conv = try shapes.convWeight("decoder.conv_in.weight", levels: 1)
        let levels = try shapes.levels()
        var counts: [Int] = []
        var widths: [Int] = []
        for i in 0..<levels {
            counts.append(shapes.resnetCount(upBlock: i, levels: levels))
            if counts[i] > 0 {
                widths.append(try shapes.convWeight("decoder.up_blocks.\(i).resnets.0.conv2.weight", levels: levels)[0])
            }
        }
        let resnets = counts.max() ?? 0
        if let short = counts.firstIndex(where: { $0 < resnets }) ?? (resnets == 0 ? 0 : nil) {
            // Every up block has layers_per_block + 1 resnets: name the first one a block lacks.
            throw shapes.missing("decoder.up_blocks.\(short).resnets.\(counts[short]).conv1.weight", levels: levels)
        }
        let config = AutoencoderKLConfig(
            blockOutChannels: widths.reversed(), layersPerBlock: resnets - 1, latentChannels: conv[1],
            outChannels: try shapes.convWeight("decoder.conv_out.weight", levels: levels)[0],
            normNumGroups: normNumGroups, scalingFactor: scalingFactor,
            usePostQuantConv: shapes.contains("post_quant_conv.weight", levels: levels),
            midBlockAddAttention: shapes.contains("decoder.mid_block.attentions.0.to_q.weight", levels: levels))
        let path = stateDict.path
        guard normNumGroups > 0, config.blockOutChannels.allSatisfy({ $0 % normNumGroups == 0 }) else {
            let isDefault = normNumGroups == defaultNormNumGroups
            let why = isDefault ? " (diffusers' default for a file without config.json)" : ""
            throw .config(
                path: path,
                reason:
                    "the tensors describe block_out_channels \(config.blockOutChannels), which norm_num_groups "
                    + "\(normNumGroups)\(why) does not divide",
                hint:
                    "the group count is not stored in the tensors: put the model's diffusers config.json beside "
                    + "the file (or use its diffusers folder)")
        }
        do { try config.validate(path: path) } catch {
            guard case .config(let p, let reason, _) = error else { throw error }
            throw .config(
                path: p, reason: "the tensors describe a decoder that is not supported: \(reason)",
                hint: "only the plain AutoencoderKL decoder (SD 1.x VAE family) is implemented")
        }
        return config
    }

    /// The configuration inferred from the weights file (or folder) at `url`; see
    /// `inferred(from:normNumGroups:scalingFactor:)`.
    public static func inferred(
        weights url: URL, normNumGroups: Int = defaultNormNumGroups, scalingFactor: Double = defaultScalingFactor
    ) throws(VAEError) -> AutoencoderKLConfig {
        try inferred(from: VAEWeights.stateDict(url), normNumGroups: normNumGroups, scalingFactor: scalingFactor)
    }
}

/// Name and shape lookups of a state dict by current diffusers name, in the file's naming.
private struct InferenceShapes {
    let dict: StateDict
    let naming: VAEKeyNaming
    let prefix: String

    init(_ dict: StateDict) {
        self.dict = dict
        (naming, prefix) = VAEKeyNaming.detect(dict.names)
    }

    /// The file's name for the tensor declared as `name`.
    func fileName(_ name: String, levels: Int) -> String { prefix + naming.fileName(for: name, levels: levels) }

    func contains(_ name: String, levels: Int) -> Bool { dict[fileName(name, levels: levels)] != nil }

    func missing(_ name: String, levels: Int) -> VAEError {
        .weights(
            .missingTensor(path: dict.path, tensor: fileName(name, levels: levels), suggestions: []), naming: naming)
    }

    /// Number of up blocks: one more than the highest up-block index in the file's names
    /// (`decoder.up.{k}.` in LDM naming, `decoder.up_blocks.{k}.` otherwise).
    func levels() throws(VAEError) -> Int {
        let stem = prefix + (naming == .ldm ? "decoder.up." : "decoder.up_blocks.")
        var highest = -1
        for name in dict.names where name.hasPrefix(stem) {
            let index = name.dropFirst(stem.count).prefix { $0 != "." }
            if let k = Int(index) { highest = max(highest, k) }
        }
        guard highest >= 0 else { throw missing("decoder.up_blocks.0.resnets.0.conv1.weight", levels: 1) }
        return highest + 1
    }

    /// Resnets 0, 1, … present in up block `i` (diffusers index).
    func resnetCount(upBlock i: Int, levels: Int) -> Int {
        var j = 0
        while contains("decoder.up_blocks.\(i).resnets.\(j).conv1.weight", levels: levels) { j += 1 }
        return j
    }

    /// The shape [C_out, C_in, k, k] of a conv weight, which must be there with positive sizes.
    func convWeight(_ name: String, levels: Int) throws(VAEError) -> [Int] {
        let file = fileName(name, levels: levels)
        guard let tensor = dict[file] else { throw missing(name, levels: levels) }
        let shape = tensor.shape
        guard shape.count == 4, shape.allSatisfy({ $0 > 0 }), shape[2] == shape[3] else {
            throw .weights(
                .badTensor(
                    path: dict.path, tensor: file,
                    reason: "shape \(shape) is not a conv weight [C_out, C_in, k, k]; cannot infer the VAE's sizes"),
                naming: naming)
        }
        return shape
    }
}
