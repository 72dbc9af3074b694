import GrantsCore

/// The problems of refused input; nil for any other error or none.
func invalidProblems(_ error: GrantsError?) -> [Problem]? {
    error.flatMap { $0.code == .invalidInput ? $0.problems : nil }
}
