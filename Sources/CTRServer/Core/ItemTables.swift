import CTRFeatures
import CTRServing
import Logging
import Synchronization

/// The `--item-table` files: read at start-up (a bad one stops the server), attached to each CTR model they are
/// for, and re-read when they change, with the repository's version rules: a file that no longer reads, or no
/// longer fits a model, keeps the table that model had, and the log says why.
final class ItemTables: Sendable {
    private struct Source: Sendable {
        var setting: ItemTableSetting
        var stamp: ItemTableFile.Stamp?
        var rows: ItemRows
    }

    private let sources: Mutex<[Source]>
    /// Whether any table was given (nothing to attach or poll otherwise).
    let isEmpty: Bool

    /// Reads every file; the error names the file and what is wrong with it.
    init(_ settings: [ItemTableSetting]) throws(ServingError) {
        var sources: [Source] = []
        for setting in settings {
            let stamp = ItemTableFile.stamp(setting.path)
            do throws(ItemTableError) {
                sources.append(Source(setting: setting, stamp: stamp, rows: try ItemTableFile.read(setting.path)))
            } catch {
                throw ServingError(.modelLoad, "--item-table \(setting.path): \(error.message)")
            }
        }
        self.sources = Mutex(sources)
        isEmpty = settings.isEmpty
    }

    /// Whether `rows` are for `schema`: the key is one of its categorical fields and every column one of its columns.
    private static func fits(_ rows: ItemRows, _ schema: FeatureSchema) -> Bool {
        guard let key = rows.columns.first, schema.categoricalFields.contains(where: { $0.name == key }) else { return false }
        return Set(rows.columns).isSubset(of: schema.knownColumns)
    }

    /// The source that serves `endpoint`: the one named for it, else the first unnamed one that fits its schema.
    private static func source(for endpoint: ModelEndpoint, in sources: [Source]) -> Source? {
        if let named = sources.first(where: { $0.setting.model == endpoint.bundle.name }) { return named }
        guard let schema = endpoint.pool.encoding?.map.schema else { return nil }
        return sources.first { $0.setting.model == nil && fits($0.rows, schema) }
    }

    /// Gives `endpoint` the table meant for it, encoded with its vocabulary; throws when a table names this model
    /// and cannot serve it.
    func attach(to endpoint: ModelEndpoint) throws(ServingError) {
        guard !isEmpty, let source = Self.source(for: endpoint, in: sources.withLock({ $0 })) else { return }
        let table = try Self.encode(source.rows, for: endpoint)
        endpoint.setItems(table)
    }

    private static func encode(_ rows: ItemRows, for endpoint: ModelEndpoint) throws(ServingError) -> ItemTable {
        guard let encoding = endpoint.pool.encoding else {
            throw ServingError(.modelLoad, "--item-table \(rows.path): model \"\(endpoint.bundle.name)\" has no features.json; item tables fill the raw fields of CTR models")
        }
        do throws(ItemTableError) {
            return try ItemTable(rows, encoder: encoding.encoder)
        } catch {
            throw ServingError(.modelLoad, "--item-table for model \"\(endpoint.bundle.name)\" version \(endpoint.bundle.version): \(error.message)")
        }
    }

    /// Re-reads every file whose stamp changed and re-encodes it for the endpoints it serves.
    func poll(_ endpoints: [ModelEndpoint], logger: Logger) {
        guard !isEmpty else { return }
        var current = sources.withLock { $0 }
        var changed = false
        for index in current.indices {
            let path = current[index].setting.path
            let stamp = ItemTableFile.stamp(path)
            guard stamp != current[index].stamp else { continue }
            // The stamp is remembered either way: a broken file is reported once, and read again once it changes.
            current[index].stamp = stamp
            changed = true
            let rows: ItemRows
            do throws(ItemTableError) {
                rows = try ItemTableFile.read(path)
            } catch {
                logger.error("item table \(path) was not reloaded, the previous one keeps serving: \(error.message)")
                continue
            }
            current[index].rows = rows
            for endpoint in endpoints {
                // The endpoints this file serves: those it filled before, and those it now fits.
                guard endpoint.items?.path == path || Self.source(for: endpoint, in: current)?.setting == current[index].setting else { continue }
                do throws(ServingError) {
                    let table = try Self.encode(rows, for: endpoint)
                    endpoint.setItems(table)
                    logger.info("item table \(path) reloaded for model \(endpoint.bundle.name) version \(endpoint.bundle.version): \(table.count) items")
                } catch {
                    logger.error("\(error.message); model \(endpoint.bundle.name) keeps its previous item table")
                }
            }
        }
        if changed { sources.withLock { $0 = current } }
    }
}
