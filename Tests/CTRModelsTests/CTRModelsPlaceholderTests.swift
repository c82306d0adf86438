import Testing
@testable import CTRModels
