import Testing
@testable import CTRServer
