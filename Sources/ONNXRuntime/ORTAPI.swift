#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opaque ONNX Runtime handle (`OrtEnv*`, `OrtSession*`, `OrtValue*`, ...).
typealias ORTHandle = OpaquePointer
/// `OrtStatus*`: nil means success.
typealias ORTStatusPointer = OpaquePointer?
typealias CString = UnsafePointer<CChar>

/// Every OrtApi slot this binding calls. The numbers come from the API-29 header order, verified against
/// the 1.31.1 binary (see shared/reference/onnxruntime-c-abi.md); the table only ever grows at the end.
enum ORTSlot: Int {
    case getErrorCode = 1
    case getErrorMessage = 2
    case createEnv = 3
    case createSession = 7
    case createSessionFromArray = 8
    case run = 9
    case createSessionOptions = 10
    case setSessionExecutionMode = 13
    case enableMemPattern = 16
    case disableMemPattern = 17
    case enableCpuMemArena = 18
    case disableCpuMemArena = 19
    case setSessionGraphOptimizationLevel = 23
    case setIntraOpNumThreads = 24
    case setInterOpNumThreads = 25
    case sessionGetInputCount = 30
    case sessionGetOutputCount = 31
    case sessionGetInputTypeInfo = 33
    case sessionGetOutputTypeInfo = 34
    case sessionGetInputName = 36
    case sessionGetOutputName = 37
    case createTensorAsOrtValue = 48
    case createTensorWithDataAsOrtValue = 49
    case getTensorMutableData = 51
    case castTypeInfoToTensorInfo = 55
    case getOnnxTypeFromTypeInfo = 56
    case getTensorElementType = 60
    case getDimensionsCount = 61
    case getDimensions = 62
    case getSymbolicDimensions = 63
    case getTensorTypeAndShape = 65
    case createCpuMemoryInfo = 69
    case allocatorFree = 76
    case getAllocatorWithDefaultOptions = 78
    case releaseEnv = 92
    case releaseStatus = 93
    case releaseMemoryInfo = 94
    case releaseSession = 95
    case releaseValue = 96
    case releaseTypeInfo = 98
    case releaseTensorTypeAndShapeInfo = 99
    case releaseSessionOptions = 100
    case sessionGetModelMetadata = 111
    case modelMetadataGetProducerName = 112
    case modelMetadataGetGraphName = 113
    case modelMetadataGetDomain = 114
    case modelMetadataGetDescription = 115
    case modelMetadataLookupCustomMetadataMap = 116
    case modelMetadataGetVersion = 117
    case releaseModelMetadata = 118
    case createEnvWithGlobalThreadPools = 119
    case disablePerSessionThreads = 120
    case createThreadingOptions = 121
    case releaseThreadingOptions = 122
    case modelMetadataGetCustomMetadataMapKeys = 123
    case getAvailableProviders = 125
    case releaseAvailableProviders = 126
    case addSessionConfigEntry = 130
    case createAndRegisterAllocator = 144
    case setGlobalIntraOpNumThreads = 147
    case setGlobalInterOpNumThreads = 148
    case setGlobalSpinControl = 149
    case addInitializer = 150
    case createPrepackedWeightsContainer = 166
    case releasePrepackedWeightsContainer = 167
    case createSessionWithPrepackedWeightsContainer = 168
    case createSessionFromArrayWithPrepackedWeightsContainer = 169
    case sessionOptionsAppendExecutionProvider = 216
    case getSessionConfigEntry = 238
    case getBuildInfoString = 254
}

// C signatures of the slots above (parameter order from the header; enums are Int32, size_t is Int).
typealias FnGetApi = @convention(c) (UInt32) -> UnsafeRawPointer?
typealias FnGetVersionString = @convention(c) () -> CString?
typealias FnGetApiBase = @convention(c) () -> UnsafeRawPointer?
typealias FnGetErrorCode = @convention(c) (ORTHandle) -> Int32
typealias FnGetErrorMessage = @convention(c) (ORTHandle) -> CString?
typealias FnRelease = @convention(c) (ORTHandle?) -> Void
typealias FnCreateEnv = @convention(c) (Int32, CString, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateEnvWithGlobalThreadPools = @convention(c) (Int32, CString, ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateSession = @convention(c) (ORTHandle, CString, ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateSessionFromArray = @convention(c) (ORTHandle, UnsafeRawPointer, Int, ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateSessionPrepacked = @convention(c) (ORTHandle, CString, ORTHandle, ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateSessionFromArrayPrepacked = @convention(c) (ORTHandle, UnsafeRawPointer, Int, ORTHandle, ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnRun = @convention(c) (ORTHandle, ORTHandle?, UnsafePointer<CString?>, UnsafePointer<ORTHandle?>, Int,
                                  UnsafePointer<CString?>, Int, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateOut = @convention(c) (UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnOnHandle = @convention(c) (ORTHandle) -> ORTStatusPointer
typealias FnSetInt = @convention(c) (ORTHandle, Int32) -> ORTStatusPointer
typealias FnSessionGetCount = @convention(c) (ORTHandle, UnsafeMutablePointer<Int>) -> ORTStatusPointer
typealias FnSessionGetTypeInfo = @convention(c) (ORTHandle, Int, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnSessionGetName = @convention(c) (ORTHandle, Int, ORTHandle, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> ORTStatusPointer
typealias FnCreateTensorAsOrtValue = @convention(c) (ORTHandle, UnsafePointer<Int64>, Int, Int32, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateTensorWithData = @convention(c) (ORTHandle, UnsafeMutableRawPointer, Int, UnsafePointer<Int64>, Int, Int32,
                                                   UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnGetTensorMutableData = @convention(c) (ORTHandle, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> ORTStatusPointer
typealias FnCastTypeInfoToTensorInfo = @convention(c) (ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnGetInt32Out = @convention(c) (ORTHandle, UnsafeMutablePointer<Int32>) -> ORTStatusPointer
typealias FnGetSizeOut = @convention(c) (ORTHandle, UnsafeMutablePointer<Int>) -> ORTStatusPointer
typealias FnGetDimensions = @convention(c) (ORTHandle, UnsafeMutablePointer<Int64>, Int) -> ORTStatusPointer
typealias FnGetSymbolicDimensions = @convention(c) (ORTHandle, UnsafeMutablePointer<CString?>, Int) -> ORTStatusPointer
typealias FnGetTensorTypeAndShape = @convention(c) (ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnCreateCpuMemoryInfo = @convention(c) (Int32, Int32, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
typealias FnAllocatorFree = @convention(c) (ORTHandle, UnsafeMutableRawPointer?) -> ORTStatusPointer
typealias FnMetadataGetString = @convention(c) (ORTHandle, ORTHandle, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> ORTStatusPointer
typealias FnMetadataLookup = @convention(c) (ORTHandle, ORTHandle, CString, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> ORTStatusPointer
typealias FnMetadataGetVersion = @convention(c) (ORTHandle, UnsafeMutablePointer<Int64>) -> ORTStatusPointer
typealias FnMetadataGetKeys = @convention(c) (ORTHandle, ORTHandle, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                              UnsafeMutablePointer<Int64>) -> ORTStatusPointer
typealias FnGetAvailableProviders = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                                    UnsafeMutablePointer<Int32>) -> ORTStatusPointer
typealias FnReleaseAvailableProviders = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, Int32) -> ORTStatusPointer
typealias FnAddConfigEntry = @convention(c) (ORTHandle, CString, CString) -> ORTStatusPointer
typealias FnGetSessionConfigEntry = @convention(c) (ORTHandle, CString, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int>) -> ORTStatusPointer
typealias FnAppendExecutionProvider = @convention(c) (ORTHandle, CString, UnsafePointer<CString?>?, UnsafePointer<CString?>?, Int) -> ORTStatusPointer
typealias FnAddInitializer = @convention(c) (ORTHandle, CString, ORTHandle) -> ORTStatusPointer
typealias FnCreateAndRegisterAllocator = @convention(c) (ORTHandle, ORTHandle, ORTHandle?) -> ORTStatusPointer
typealias FnGetBuildInfoString = @convention(c) () -> CString?

/// The OrtApi function table, with the functions on the request path resolved once at load time.
///
/// Everything here is an immutable pointer into the loaded library, so one instance is shared by all threads.
struct ORTAPI: @unchecked Sendable {
    let table: UnsafeRawPointer

    // Resolved up front because they run once or more per inference call.
    let run: FnRun
    let createTensorWithData: FnCreateTensorWithData
    let getTensorMutableData: FnGetTensorMutableData
    let releaseValue: FnRelease
    let releaseStatus: FnRelease
    let getErrorCode: FnGetErrorCode
    let getErrorMessage: FnGetErrorMessage

    init(table: UnsafeRawPointer) {
        self.table = table
        func load<F>(_ slot: ORTSlot, _: F.Type) -> F {
            let pointer = table.load(fromByteOffset: slot.rawValue * MemoryLayout<UnsafeRawPointer>.stride, as: UnsafeRawPointer.self)
            return unsafeBitCast(pointer, to: F.self)
        }
        run = load(.run, FnRun.self)
        createTensorWithData = load(.createTensorWithDataAsOrtValue, FnCreateTensorWithData.self)
        getTensorMutableData = load(.getTensorMutableData, FnGetTensorMutableData.self)
        releaseValue = load(.releaseValue, FnRelease.self)
        releaseStatus = load(.releaseStatus, FnRelease.self)
        getErrorCode = load(.getErrorCode, FnGetErrorCode.self)
        getErrorMessage = load(.getErrorMessage, FnGetErrorMessage.self)
    }

    /// The function in `slot`, typed as `type`.
    func callAsFunction<F>(_ slot: ORTSlot, _ type: F.Type) -> F {
        let pointer = table.load(fromByteOffset: slot.rawValue * MemoryLayout<UnsafeRawPointer>.stride, as: UnsafeRawPointer.self)
        return unsafeBitCast(pointer, to: F.self)
    }

    /// The one choke point that turns an `OrtStatus*` into a typed error (and releases the status).
    @inline(__always)
    func check(_ status: ORTStatusPointer, _ context: @autoclosure () -> String) throws(ORTError) {
        guard let status else { return }
        throw consume(status, context())
    }

    func consume(_ status: ORTHandle, _ context: String) -> ORTError {
        let code = getErrorCode(status)
        let message = getErrorMessage(status).map { String(cString: $0) } ?? ""
        releaseStatus(status)
        return ORTError(.runtime(ORTError.RuntimeCode(rawValue: code)), "\(context): \(message)")
    }

    func release(_ slot: ORTSlot, _ handle: ORTHandle?) {
        guard let handle else { return }
        self(slot, FnRelease.self)(handle)
    }
}
