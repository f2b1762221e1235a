// Tensor-name conventions of VAE checkpoints and the mapping from the current diffusers names
// (the names parameters are declared with) to the names a file uses (spec vae-decoder.md §6):
// - diffusers: current names (to_q/to_k/to_v/to_out.0);
// - legacy diffusers (before 0.14): mid-block attention query/key/value/proj_attn;
// - CompVis/LDM: decoder.mid.block_1, decoder.up.{L-1-i}.block.{j}, nin_shortcut, norm_out, …,
//   optionally under a `first_stage_model.` prefix (a full SD checkpoint).

/// A naming convention for VAE tensors.
public enum VAEKeyNaming: String, Sendable, CaseIterable {
    case diffusers
    case legacyDiffusers = "legacy-diffusers"
    case ldm

    /// The prefix of a full Stable Diffusion checkpoint's VAE tensors.
    public static let ldmCheckpointPrefix = "first_stage_model."

    /// The convention (and the prefix to put before every name) used by a file with these names.
    public static func detect<S: Sequence>(_ names: S) -> (naming: VAEKeyNaming, prefix: String)
    where S.Element == String {
        var prefixed = false, ldm = false, legacy = false
        for raw in names {
            let name: Substring
            if raw.hasPrefix(ldmCheckpointPrefix) {
                prefixed = true
                name = raw.dropFirst(ldmCheckpointPrefix.count)
            } else {
                name = Substring(raw)
            }
            if name.hasPrefix("decoder.mid.") || name.hasPrefix("decoder.up.") || name.hasPrefix("decoder.norm_out.") {
                ldm = true
            }
            if name.hasPrefix("decoder.mid_block.attentions.0.query.")
                || name.hasPrefix("decoder.mid_block.attentions.0.proj_attn.")
            {
                legacy = true
            }
        }
        let prefix = prefixed ? ldmCheckpointPrefix : ""
        if ldm { return (.ldm, prefix) }
        return (legacy ? .legacyDiffusers : .diffusers, prefix)
    }

    /// The name under which the tensor declared as `name` (current diffusers naming) is stored in
    /// this convention. `levels` = len(block_out_channels), needed for LDM's reversed up-block order.
    public func fileName(for name: String, levels: Int) -> String {
        switch self {
        case .diffusers: return name
        case .legacyDiffusers: return Self.legacyName(name)
        case .ldm: return Self.ldmName(name, levels: levels)
        }
    }

    private static let attention = "decoder.mid_block.attentions.0."

    static func legacyName(_ name: String) -> String {
        guard name.hasPrefix(attention) else { return name }
        let rest = name.dropFirst(attention.count)
        for (new, old) in [("to_q.", "query."), ("to_k.", "key."), ("to_v.", "value."), ("to_out.0.", "proj_attn.")]
        where rest.hasPrefix(new) {
            return attention + old + rest.dropFirst(new.count)
        }
        return name
    }

    static func ldmName(_ name: String, levels: Int) -> String {
        guard name.hasPrefix("decoder.") else { return name }  // post_quant_conv.* is unchanged
        var parts = name.split(separator: ".").map(String.init)
        // parts[0] == "decoder"
        func resnetTail(_ tail: ArraySlice<String>) -> [String] {
            tail.map { $0 == "conv_shortcut" ? "nin_shortcut" : $0 }
        }
        switch parts.count > 1 ? parts[1] : "" {
        case "conv_norm_out":
            parts[1] = "norm_out"
        case "mid_block" where parts.count > 4:
            let index = Int(parts[3]) ?? 0
            if parts[2] == "resnets" {
                parts = ["decoder", "mid", "block_\(index + 1)"] + resnetTail(parts[4...])
            } else if parts[2] == "attentions" {
                let tail = Array(parts[4...])
                let renamed: [String]
                switch tail.first {
                case "group_norm": renamed = ["norm"] + tail.dropFirst()
                case "to_q": renamed = ["q"] + tail.dropFirst()
                case "to_k": renamed = ["k"] + tail.dropFirst()
                case "to_v": renamed = ["v"] + tail.dropFirst()
                case "to_out" where tail.count > 1: renamed = ["proj_out"] + tail.dropFirst(2)
                default: renamed = tail
                }
                parts = ["decoder", "mid", "attn_1"] + renamed
            }
        case "up_blocks" where parts.count > 4:
            let level = levels - 1 - (Int(parts[2]) ?? 0)
            if parts[3] == "resnets" {
                parts = ["decoder", "up", "\(level)", "block", parts[4]] + resnetTail(parts[5...])
            } else if parts[3] == "upsamplers" {
                parts = ["decoder", "up", "\(level)", "upsample"] + parts[5...]
            }
        default:
            break
        }
        return parts.joined(separator: ".")
    }
}
