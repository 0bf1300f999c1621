namespace Switchyard.Core.Logs;

/// <summary>Finds a request's log record in the configured store (<c>GET /v1/logs/{id}</c>).</summary>
public interface IRequestLogLookup
{
    /// <summary>The record's JSON document for a log id (or, where the store can search, a trace id); null when there is none.</summary>
    Task<byte[]?> FindAsync(string id, CancellationToken ct);
}
