// How a render talks to whoever runs it (the daemon's worker, `skipdit render`): progress after
// every step, state to persist, and a control poll at every step boundary.

import Latte

/// What the runner wants at a step boundary.
public enum RenderControl: Sendable {
    case proceed
    /// Save the state and stop; the job resumes later (SIGTERM).
    case stop
    /// Abandon the job (skipdit cancel).
    case cancel
}

/// Progress of one job.
public struct RenderProgress: Sendable {
    public enum Phase: String, Sendable { case loading, conditioning, denoising, decoding, encoding, done }
    public var phase: Phase
    /// Video index (seed position) and count.
    public var video: Int
    public var videos: Int
    /// Sampler step within the video (1-based after it ran) and the steps per video.
    public var step: Int
    public var steps: Int
    /// Estimated seconds until the job is done, when known.
    public var etaSeconds: Double?
    /// The step just run (denoising only): full or cached, and its seconds.
    public var lastStep: StepTiming?
    /// Full and cached steps of this video so far (denoising only).
    public var fullSteps = 0
    public var cachedSteps = 0
}

/// One sampler step's kind and duration (its transformer forward's part of it), and the video's
/// full and cached steps including it.
public struct StepTiming: Sendable, Equatable {
    public var mode: StepMode
    public var seconds: Double
    public var forwardSeconds = 0.0
    public var fullSteps = 0
    public var cachedSteps = 0
}

public protocol RenderObserver: AnyObject {
    func progress(_ p: RenderProgress)
    /// Persists the resumable state (called every few steps and before stopping).
    func save(_ state: RenderState) throws
    func control() -> RenderControl
}
