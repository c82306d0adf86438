import Testing
@testable import CTRData
