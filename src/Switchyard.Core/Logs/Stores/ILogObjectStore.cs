namespace Switchyard.Core.Logs.Stores;

/// <summary>
/// A bucket or container that holds one JSON document per request, under keys made by <see cref="LogObjectPath"/>.
/// Writes are idempotent by key: delivering a record again overwrites the same object, so a retry after an ambiguous
/// failure still leaves exactly one copy.
/// </summary>
public interface ILogObjectStore : IAsyncDisposable
{
    /// <summary>The <c>LOG_STORE</c> kind this store serves (<c>s3</c>, <c>gcs_assume</c>, <c>azure</c>, …).</summary>
    string Kind { get; }

    /// <summary>Writes (or overwrites) one object. Throws on any failure; the caller retries.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct);

    /// <summary>The object's bytes, or null when no object has that key. Throws on any other failure.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken ct);
}
