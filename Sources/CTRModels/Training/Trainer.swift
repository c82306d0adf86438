import CTRData
import CTRFeatures
import Foundation

/// Fits the feature map and trains a model by streaming over a dataset's files (any schema; Criteo is a preset).
///
/// One pass fits `features.json`; each epoch then streams the file again (memory stays flat),
/// evaluates validation AUC and log loss, and keeps the best epoch's weights (early stopping on AUC).
/// Without a validation file, every `holdoutEvery`-th row is held out of both fit and training.
public final class Trainer {
    /// The run's settings.
    public let configuration: TrainingConfiguration
    /// The dataset being trained on.
    public let dataset: DatasetConfig
    /// The bundle to start from (`train --warm-start`); nil trains from scratch.
    public let parent: ModelBundleReader.Loaded?
    private let train: DatasetFile
    private let validation: DatasetFile?

    /// The result of a run: the trained model (best epoch), its feature map and its model card.
    public struct Outcome {
        /// The model with the best epoch's weights.
        public let model: any CTRModel
        /// The fitted feature map.
        public let featureMap: FeatureMap
        /// What goes into model.json.
        public let card: ModelCard
    }

    /// Checks the configuration and that the files can be opened (Criteo TSV files).
    public convenience init(configuration: TrainingConfiguration, trainPath: String, validationPath: String? = nil) throws(CTRModelsError) {
        try self.init(configuration: configuration, dataset: .criteoPreset, trainPath: trainPath, validationPath: validationPath)
    }

    /// Checks the configuration, that the files can be opened and that they hold the dataset's columns.
    ///
    /// With `parent` (warm start) the model keeps the parent's architecture, settings and integer encoding, and its
    /// feature map extends the parent's (``FeatureMapBuilder/build(extending:)``); the dataset must declare the
    /// parent's fields alike.
    public init(configuration base: TrainingConfiguration, dataset: DatasetConfig, trainPath: String,
                validationPath: String? = nil, parent: ModelBundleReader.Loaded? = nil) throws(CTRModelsError) {
        var configuration = base
        if let parent {
            let parentSettings = parent.card.configuration
            guard !parentSettings.hyperparameters.batchNorm else {
                throw .invalidConfiguration("--warm-start: the parent was trained with batch normalization, which its model.onnx holds folded into its layers; warm start needs a parent without it")
            }
            guard parent.featureMap.schema.encodesLike(dataset.schema) else {
                throw .invalidConfiguration("--warm-start: the dataset config declares other fields (or other settings) than the parent's features.json; warm start keeps the parent's encoding")
            }
            configuration.architecture = parentSettings.architecture
            configuration.hyperparameters = parentSettings.hyperparameters
            configuration.denseEncoding = parentSettings.denseEncoding
        }
        try configuration.validate()
        self.configuration = configuration
        self.parent = parent
        self.dataset = dataset
        train = try Self.open(trainPath, dataset)
        validation = try validationPath.map { (path) throws(CTRModelsError) in try Self.open(path, dataset) }
    }

    static func open(_ path: String, _ dataset: DatasetConfig, requiresLabel: Bool = true) throws(CTRModelsError) -> DatasetFile {
        do {
            return try DatasetFile(path: path, config: dataset, requiresLabel: requiresLabel)
        } catch {
            throw .cannotRead(path: path, reason: error.detail)
        }
    }

    private func isHoldout(_ index: Int) -> Bool {
        validation == nil && index % configuration.holdoutEvery == configuration.holdoutEvery - 1
    }

    /// Fits, trains and evaluates; `onEvent` receives progress on the calling thread.
    public func run(onEvent: (TrainingEvent) -> Void = { _ in }) throws(CTRModelsError) -> Outcome {
        let config = configuration
        BLAS.setThreadCount(config.threads)
        let limit = config.maxRows ?? .max

        // Pass 1: the feature map, from training rows only.
        let fitStart = ContinuousClock.now
        var builder = FeatureMapBuilder(schema: dataset.schema, minCount: config.minCount)
        var trainRows = 0, positives = 0
        let stats = try forEachTrainingRow(limit: limit) { row in
            row.add(to: &builder)
            trainRows += 1
            if (row.label ?? 0) > 0.5 { positives += 1 }
        }
        if stats.malformedCount > 0 { onEvent(.skippedLines(path: train.path, stats: stats)) }
        guard trainRows > 0 else { throw .noData(path: train.path) }
        var featureMap = parent.map { builder.build(extending: $0.featureMap) } ?? builder.build()
        featureMap.dataLayout = DataLayout(separator: dataset.separator, columnNames: dataset.columnNames)
        let encoder = FeatureEncoder(map: featureMap)
        onEvent(.fittedFeatureMap(rows: trainRows, vocabularySize: featureMap.totalVocabularySize,
                                  seconds: fitStart.duration(to: .now).seconds))

        // Buckets embed Criteo's transformed integers per value; any other numeric field is value × vector.
        let shape = ModelShape(featureMap: featureMap, denseEncoding: config.denseEncoding)
        let model = config.architecture.makeModel(shape: shape, hyperparameters: config.hyperparameters,
                                                  maxBatch: config.batchSize, seed: config.seed)
        model.threads = config.threads
        if let parent { try WarmStart.transfer(from: parent.model, parentMap: parent.featureMap, to: model, map: featureMap) }
        let optimizer = AdamOptimizer(configuration: config.optimizer)
        let batch = BatchBuffer(capacity: config.batchSize, sparseFields: shape.sparseFields, denseFields: shape.denseFields,
                                sequenceLength: shape.totalSequenceLength)
        let gradient = FloatBuffer(count: config.batchSize)

        var reports: [EpochReport] = []
        var best: (epoch: Int, score: Double, snapshot: ModelSnapshot)?
        var validationRows = 0
        var epochsWithoutImprovement = 0
        // Shuffle each epoch in memory when the encoded rows fit (FuxiCTR shuffles every epoch); otherwise stream
        // the file in its order every epoch, as a file larger than memory must be.
        let rowBytes = EncodedRows.bytesPerRow(sparseFields: shape.sparseFields, denseFields: shape.denseFields,
                                               sequenceLength: shape.totalSequenceLength)
        let shuffleInMemory = config.shuffle && trainRows * rowBytes <= config.shuffleMemoryLimitBytes
        let inMemory = shuffleInMemory ? try encodeTrainingRows(encoder: encoder, batch: batch, limit: limit, rows: trainRows) : nil
        for epoch in 1...config.epochs {
            let epochStart = ContinuousClock.now
            var seen = 0, lossSum = 0.0
            var lastReport = epochStart
            func step() {
                let n = batch.count
                model.setTraining(true)
                defer { model.setTraining(false) }
                model.zeroGradients()
                model.forward(batch.inputs(), count: n)
                let scale = 1 / Float(n)
                for i in 0..<n {
                    let p = Sigmoid.value(model.logits[i])
                    let y = batch.labels[i]
                    gradient[i] = (p - y) * scale
                    let q = Double(min(max(p, 1e-7), 1 - 1e-7))
                    lossSum -= Double(y) * log(q) + Double(1 - y) * log(1 - q)
                }
                model.backward(logitGradient: gradient.pointer, batch.inputs(), count: n)
                optimizer.apply(to: model)
                seen += n
                batch.count = 0
                let now = ContinuousClock.now
                if lastReport.duration(to: now) >= .seconds(1) {
                    lastReport = now
                    let elapsed = epochStart.duration(to: now).seconds
                    let rate = Double(seen) / max(elapsed, 1e-9)
                    onEvent(.progress(TrainingProgress(
                        epoch: epoch, rows: seen, expectedRows: trainRows, loss: lossSum / Double(seen),
                        rowsPerSecond: rate, etaSeconds: Double(max(trainRows - seen, 0)) / max(rate, 1e-9))))
                }
            }
            if let memory = inMemory {
                // A new order every epoch, from the seed: FuxiCTR's shuffled data loader, reproducibly.
                var order = Array(0..<memory.count)
                var shuffler = SeededGenerator(seed: config.seed &+ UInt64(epoch) &* 0x9E37_79B9)
                order.shuffle(using: &shuffler)
                for row in order {
                    memory.copy(row: row, into: batch)
                    if batch.isFull { step() }
                }
            } else {
                try forEachTrainingRow(limit: limit) { row in
                    batch.append(row, encoder: encoder)
                    if batch.isFull { step() }
                }
            }
            if batch.count > 0 { step() }
            let trainSeconds = epochStart.duration(to: .now).seconds

            let (labels, scores) = try predictValidation(model: model, encoder: encoder, batch: batch, limit: limit)
            validationRows = labels.count
            let auc = BinaryMetrics.auc(labels: labels, scores: scores)
            let report = EpochReport(
                epoch: epoch, trainRows: seen, trainLogLoss: lossSum / Double(max(seen, 1)),
                validationAUC: auc, validationLogLoss: BinaryMetrics.logLoss(labels: labels, probabilities: scores),
                rowsPerSecond: Double(seen) / max(trainSeconds, 1e-9), trainSeconds: trainSeconds)
            reports.append(report)
            onEvent(.epochFinished(report))

            // FuxiCTR's checkpoint_and_earlystop: an epoch counts as better only by more than 1e-6; every epoch that
            // is not divides the learning rate by 10 (reduce_lr_on_plateau) and advances the patience counter.
            let score = config.monitor.score(auc: auc, logLoss: report.validationLogLoss)
            if best == nil || score > best!.score + 1e-6 {
                best = (epoch, score, model.snapshot())
                epochsWithoutImprovement = 0
            } else {
                epochsWithoutImprovement += 1
                if config.reduceLearningRateOnPlateau {
                    onEvent(.learningRateReduced(to: Double(optimizer.reduceLearningRate())))
                }
                if epochsWithoutImprovement >= max(config.patience, 1) {
                    if epoch < config.epochs { onEvent(.stoppedEarly(bestEpoch: best!.epoch)) }
                    break
                }
            }
        }
        let kept = best!
        if kept.epoch != reports.last?.epoch { model.restore(kept.snapshot) }

        let data = DataSummary(
            trainPath: train.path,
            validationSource: validation?.path ?? "every \(config.holdoutEvery)th row of \(train.path)",
            trainRows: trainRows, validationRows: validationRows, malformedTrainLines: stats.malformedCount,
            trainPositiveRate: Double(positives) / Double(trainRows), vocabularySize: featureMap.totalVocabularySize,
            featureMapFingerprint: featureMap.fingerprint)
        var recorded = config
        recorded.denseEncoding = shape.denseBuckets != nil ? .buckets : .numeric
        var card = ModelCard(
            configuration: recorded, data: data, epochs: reports, bestEpoch: kept.epoch,
            parameterCount: model.parameterCount, sparseInput: featureMap.sparseInputName,
            denseInput: featureMap.denseInputName, output: featureMap.outputName)
        card.parent = parent.map { ModelCard.Parent(featureMapFingerprint: $0.featureMap.fingerprint, path: $0.path) }
        return Outcome(model: model, featureMap: featureMap, card: card)
    }

    /// The training rows (holdout excluded), encoded into memory in file order.
    private func encodeTrainingRows(encoder: FeatureEncoder, batch: BatchBuffer, limit: Int, rows: Int) throws(CTRModelsError) -> EncodedRows {
        let memory = EncodedRows(sparseFields: batch.sparseFields, denseFields: batch.denseFields,
                                 sequenceLength: batch.sequenceLength, reserving: rows)
        batch.count = 0
        try forEachTrainingRow(limit: limit) { row in
            batch.append(row, encoder: encoder)
            if batch.isFull {
                memory.append(batch)
                batch.count = 0
            }
        }
        memory.append(batch)
        batch.count = 0
        return memory
    }

    /// Calls `body` with each training row of the file in order, skipping the rows held out for validation.
    @discardableResult
    private func forEachTrainingRow(limit: Int, _ body: (DatasetRow) -> Void) throws(CTRModelsError) -> ReadStats {
        var index = 0
        return try readRows(train, limit: limit) { row in
            defer { index += 1 }
            guard !isHoldout(index) else { return }
            body(row)
        }
    }

    /// Labels and predicted probabilities of the validation rows.
    private func predictValidation(
        model: any CTRModel, encoder: FeatureEncoder, batch: BatchBuffer, limit: Int
    ) throws(CTRModelsError) -> (labels: [Float], scores: [Float]) {
        var labels: [Float] = [], scores: [Float] = []
        let maxValidation = configuration.maxValidationRows ?? .max
        func flush() {
            model.forward(batch.inputs(), count: batch.count)
            for i in 0..<batch.count {
                labels.append(batch.labels[i])
                scores.append(Sigmoid.value(model.logits[i]))
            }
            batch.count = 0
        }
        batch.count = 0
        if let validation {
            try readRows(validation, limit: maxValidation) { row in
                batch.append(row, encoder: encoder)
                if batch.isFull { flush() }
            }
        } else {
            var index = 0, taken = 0
            try readRows(train, limit: limit) { row in
                defer { index += 1 }
                guard isHoldout(index), taken < maxValidation else { return }
                taken += 1
                batch.append(row, encoder: encoder)
                if batch.isFull { flush() }
            }
        }
        if batch.count > 0 { flush() }
        return (labels, scores)
    }

    @discardableResult
    private func readRows(_ reader: DatasetFile, limit: Int, _ body: (DatasetRow) -> Void) throws(CTRModelsError) -> ReadStats {
        do {
            return try reader.forEachRow(limit: limit, body)
        } catch {
            throw .cannotRead(path: reader.path, reason: error.detail)
        }
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
