// Tensor-name conventions: detection from a file's names and the mapping from current diffusers
// names to legacy and LDM names (spec vae-decoder.md §6).

import VAE
import XCTest

final class KeyNamingTests: XCTestCase {
    func testDetection() {
        XCTAssertEqual(
            VAEKeyNaming.detect(["decoder.mid_block.attentions.0.to_q.weight", "encoder.conv_in.weight"]).naming,
            .diffusers)
        XCTAssertEqual(VAEKeyNaming.detect(["decoder.mid_block.attentions.0.query.weight"]).naming, .legacyDiffusers)
        XCTAssertEqual(VAEKeyNaming.detect(["decoder.mid.attn_1.q.weight", "decoder.conv_in.weight"]).naming, .ldm)
        let full = VAEKeyNaming.detect([
            "first_stage_model.decoder.up.0.block.0.conv1.weight", "model.diffusion_model.x",
        ])
        XCTAssertEqual(full.naming, .ldm)
        XCTAssertEqual(full.prefix, "first_stage_model.")
        // An encoder's LDM-style names alone do not make a file LDM.
        XCTAssertEqual(
            VAEKeyNaming.detect(["encoder.mid.block_1.conv1.weight", "decoder.conv_in.weight"]).naming, .diffusers)
    }

    func testLegacyNames() {
        let n = VAEKeyNaming.legacyDiffusers
        let a = "decoder.mid_block.attentions.0."
        XCTAssertEqual(n.fileName(for: a + "to_q.weight", levels: 4), a + "query.weight")
        XCTAssertEqual(n.fileName(for: a + "to_k.bias", levels: 4), a + "key.bias")
        XCTAssertEqual(n.fileName(for: a + "to_v.weight", levels: 4), a + "value.weight")
        XCTAssertEqual(n.fileName(for: a + "to_out.0.weight", levels: 4), a + "proj_attn.weight")
        XCTAssertEqual(n.fileName(for: a + "group_norm.weight", levels: 4), a + "group_norm.weight")
        XCTAssertEqual(
            n.fileName(for: "decoder.up_blocks.1.resnets.0.conv1.weight", levels: 4),
            "decoder.up_blocks.1.resnets.0.conv1.weight")
    }

    func testLDMNames() {
        let n = VAEKeyNaming.ldm
        let cases: [(String, String)] = [
            ("post_quant_conv.weight", "post_quant_conv.weight"),
            ("decoder.conv_in.bias", "decoder.conv_in.bias"),
            ("decoder.conv_out.weight", "decoder.conv_out.weight"),
            ("decoder.conv_norm_out.weight", "decoder.norm_out.weight"),
            ("decoder.mid_block.resnets.0.norm1.weight", "decoder.mid.block_1.norm1.weight"),
            ("decoder.mid_block.resnets.1.conv2.bias", "decoder.mid.block_2.conv2.bias"),
            ("decoder.mid_block.attentions.0.group_norm.bias", "decoder.mid.attn_1.norm.bias"),
            ("decoder.mid_block.attentions.0.to_q.weight", "decoder.mid.attn_1.q.weight"),
            ("decoder.mid_block.attentions.0.to_k.weight", "decoder.mid.attn_1.k.weight"),
            ("decoder.mid_block.attentions.0.to_v.bias", "decoder.mid.attn_1.v.bias"),
            ("decoder.mid_block.attentions.0.to_out.0.weight", "decoder.mid.attn_1.proj_out.weight"),
            ("decoder.up_blocks.0.resnets.2.conv1.weight", "decoder.up.3.block.2.conv1.weight"),
            ("decoder.up_blocks.3.resnets.0.conv_shortcut.weight", "decoder.up.0.block.0.nin_shortcut.weight"),
            ("decoder.up_blocks.1.upsamplers.0.conv.bias", "decoder.up.2.upsample.conv.bias"),
        ]
        for (current, ldm) in cases { XCTAssertEqual(n.fileName(for: current, levels: 4), ldm, current) }
        // The up-block order is reversed relative to the number of levels.
        XCTAssertEqual(
            n.fileName(for: "decoder.up_blocks.0.resnets.0.conv1.weight", levels: 3),
            "decoder.up.2.block.0.conv1.weight")
    }

    func testDiffusersNamesAreUnchanged() {
        let name = "decoder.mid_block.attentions.0.to_out.0.weight"
        XCTAssertEqual(VAEKeyNaming.diffusers.fileName(for: name, levels: 4), name)
    }
}
