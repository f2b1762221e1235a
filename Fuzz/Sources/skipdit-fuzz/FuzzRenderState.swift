// The render-state file a killed render resumes from (RenderState.decode), as read from the state
// folder: whole, and as a Data slice that does not start at index 0. What decodes must encode again.

import Foundation
import Render

enum FuzzRenderState {
    static func decode(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        check(data)
        var shifted = Data([0x55, 0xAA])
        shifted.append(data)
        check(shifted[(shifted.startIndex + 2)...])
    }

    private static func check(_ data: Data) {
        let state: RenderState
        do { state = try RenderState.decode(data) } catch {
            _ = "\(error)"
            return
        }
        do {
            let again = try RenderState.decode(try state.encoded())
            guard again.latents.shape == state.latents.shape, again.iteration == state.iteration,
                again.cachedStream?.shape == state.cachedStream?.shape
            else {
                fputs("render state does not survive encode → decode\n", stderr)
                abort()
            }
        } catch {
            fputs("a decoded render state does not encode and decode again: \(error)\n", stderr)
            abort()
        }
    }
}
