import CTRServing

/// Triton's statistics extension response (`GET /v2/models[/{m}]/stats`):
/// `{"model_stats":[{"name","version","last_inference","inference_count","execution_count","inference_stats":{...},"batch_stats":[...]}]}`.
enum StatisticsEncoder {
    /// Appends the response for `models` (name, version, counters), in order.
    static func encode(_ models: [(name: String, version: String, snapshot: ModelStatistics.Snapshot)], into out: inout [UInt8]) {
        JSONWriter.appendRaw("{\"model_stats\":[", to: &out)
        for (index, model) in models.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let s = model.snapshot
            JSONWriter.appendRaw("{\"name\":", to: &out)
            JSONWriter.appendString(model.name, to: &out)
            JSONWriter.appendRaw(",\"version\":", to: &out)
            JSONWriter.appendString(model.version, to: &out)
            JSONWriter.appendRaw(",\"last_inference\":", to: &out)
            JSONWriter.appendInteger(s.lastInferenceMilliseconds, to: &out)
            JSONWriter.appendRaw(",\"inference_count\":", to: &out)
            JSONWriter.appendInteger(s.inferenceCount, to: &out)
            JSONWriter.appendRaw(",\"execution_count\":", to: &out)
            JSONWriter.appendInteger(s.executionCount, to: &out)
            JSONWriter.appendRaw(",\"inference_stats\":{\"success\":", to: &out)
            duration(s.success, &out)
            JSONWriter.appendRaw(",\"fail\":", to: &out)
            duration(s.fail, &out)
            JSONWriter.appendRaw(",\"queue\":", to: &out)
            duration(s.queue, &out)
            JSONWriter.appendRaw(",\"compute_input\":", to: &out)
            duration(s.computeInput, &out)
            JSONWriter.appendRaw(",\"compute_infer\":", to: &out)
            duration(s.computeInfer, &out)
            JSONWriter.appendRaw(",\"compute_output\":", to: &out)
            duration(s.computeOutput, &out)
            JSONWriter.appendRaw(",\"cache_hit\":{\"count\":0,\"ns\":0},\"cache_miss\":{\"count\":0,\"ns\":0}},\"batch_stats\":[", to: &out)
            for (b, batch) in s.batches.enumerated() {
                if b > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendRaw("{\"batch_size\":", to: &out)
                JSONWriter.appendInteger(batch.batchSize, to: &out)
                JSONWriter.appendRaw(",\"compute_input\":{\"count\":", to: &out)
                JSONWriter.appendInteger(batch.computeInfer.count, to: &out)
                JSONWriter.appendRaw(",\"ns\":0},\"compute_infer\":", to: &out)
                duration(batch.computeInfer, &out)
                JSONWriter.appendRaw(",\"compute_output\":{\"count\":", to: &out)
                JSONWriter.appendInteger(batch.computeInfer.count, to: &out)
                JSONWriter.appendRaw(",\"ns\":0}}", to: &out)
            }
            JSONWriter.appendRaw("]}", to: &out)
        }
        JSONWriter.appendRaw("]}", to: &out)
    }

    private static func duration(_ d: ModelStatistics.Duration, _ out: inout [UInt8]) {
        JSONWriter.appendRaw("{\"count\":", to: &out)
        JSONWriter.appendInteger(d.count, to: &out)
        JSONWriter.appendRaw(",\"ns\":", to: &out)
        JSONWriter.appendInteger(d.nanoseconds, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
