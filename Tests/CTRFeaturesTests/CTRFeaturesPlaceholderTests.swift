import Testing
@testable import CTRFeatures
