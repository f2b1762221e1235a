// Opening a VAE weights file or folder as a tensor source.

import Foundation

/// The tensor source for a weights file, or for the weights file of a model folder.
func openWeights(_ url: URL) throws(VAEError) -> VAETensorSource {
    // TEMPORARY: a folder of .npy files until the Checkpoints readers land.
    return NumPyFolderSource(url)
}
