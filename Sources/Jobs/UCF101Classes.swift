// UCF101Classes: the 101 UCF101 action classes in the official label order, which is Python's sorted()
// of the class folder names (code-point order, so "HammerThrow" < "Hammering"), NOT classInd.txt's
// order. Index i is the label id the class-conditional Latte model was trained with; 101 is the null id.
// Source: shared/spec/ucf101-classes.txt.

/// The built-in UCF101 class list (`classes: ucf101` in a model entry).
public enum UCF101 {
    /// The class names; the index is the label id.
    public static let classes: [String] = [
        "ApplyEyeMakeup", "ApplyLipstick", "Archery", "BabyCrawling", "BalanceBeam", "BandMarching",
        "BaseballPitch", "Basketball", "BasketballDunk", "BenchPress", "Biking", "Billiards", "BlowDryHair",
        "BlowingCandles", "BodyWeightSquats", "Bowling", "BoxingPunchingBag", "BoxingSpeedBag", "BreastStroke",
        "BrushingTeeth", "CleanAndJerk", "CliffDiving", "CricketBowling", "CricketShot", "CuttingInKitchen",
        "Diving", "Drumming", "Fencing", "FieldHockeyPenalty", "FloorGymnastics", "FrisbeeCatch", "FrontCrawl",
        "GolfSwing", "Haircut", "HammerThrow", "Hammering", "HandstandPushups", "HandstandWalking", "HeadMassage",
        "HighJump", "HorseRace", "HorseRiding", "HulaHoop", "IceDancing", "JavelinThrow", "JugglingBalls",
        "JumpRope", "JumpingJack", "Kayaking", "Knitting", "LongJump", "Lunges", "MilitaryParade", "Mixing",
        "MoppingFloor", "Nunchucks", "ParallelBars", "PizzaTossing", "PlayingCello", "PlayingDaf", "PlayingDhol",
        "PlayingFlute", "PlayingGuitar", "PlayingPiano", "PlayingSitar", "PlayingTabla", "PlayingViolin",
        "PoleVault", "PommelHorse", "PullUps", "Punch", "PushUps", "Rafting", "RockClimbingIndoor", "RopeClimbing",
        "Rowing", "SalsaSpin", "ShavingBeard", "Shotput", "SkateBoarding", "Skiing", "Skijet", "SkyDiving",
        "SoccerJuggling", "SoccerPenalty", "StillRings", "SumoWrestling", "Surfing", "Swing", "TableTennisShot",
        "TaiChi", "TennisSwing", "ThrowDiscus", "TrampolineJumping", "Typing", "UnevenBars", "VolleyballSpiking",
        "WalkingWithDog", "WallPushups", "WritingOnBoard", "YoYo",
    ]
}
