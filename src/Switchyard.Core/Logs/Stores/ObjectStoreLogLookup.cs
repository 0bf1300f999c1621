namespace Switchyard.Core.Logs.Stores;

/// <summary>
/// Reads a record back from the bucket by its key. A bucket cannot be searched, so the id must be a record's <c>_id</c>
/// (with the v2 path format, a UUIDv7 one: its hour is part of the key); a client's own trace id is not found here.
/// </summary>
public sealed class ObjectStoreLogLookup(ILogObjectStore store, LogObjectStoreOptions options) : IRequestLogLookup
{
    public Task<byte[]?> FindAsync(string id, CancellationToken ct) =>
        LogObjectPath.TryForLogId(options, id, out var key) ? store.GetAsync(key, ct) : Task.FromResult<byte[]?>(null);
}
