import Testing
@testable import CTRServing
