using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;
using Switchyard.Core.Redis;

namespace Switchyard.Gateway.Mcp.Sessions;

/// <summary>What a replica needs to continue a legacy-era session it did not create: who opened it, on which route, and the client's initialize parameters.</summary>
/// <param name="CallerId">The <see cref="McpCaller.Id"/> that initialized the session.</param>
/// <param name="RoutePath">The route path (<see cref="McpRoute.Path"/>) the session was opened on; null when no route was resolved.</param>
/// <param name="Initialize">The client's <c>initialize</c> parameters (capabilities, client info, protocol version).</param>
public sealed record McpSessionRecord(string CallerId, string? RoutePath, InitializeRequestParams Initialize)
{
    private static JsonTypeInfo<InitializeRequestParams> ParamsType =>
        (JsonTypeInfo<InitializeRequestParams>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InitializeRequestParams));

    /// <summary>The record as JSON: <c>{"caller": …, "route": …, "initialize": {…}}</c>.</summary>
    public byte[] ToJson()
    {
        var node = new JsonObject
        {
            ["caller"] = CallerId,
            ["route"] = RoutePath,
            ["initialize"] = JsonSerializer.SerializeToNode(Initialize, ParamsType),
        };
        return JsonSerializer.SerializeToUtf8Bytes(node, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonNode)));
    }

    /// <summary>Reads <see cref="ToJson"/>'s output; null when it is not a record.</summary>
    public static McpSessionRecord? FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("caller", out var caller) || caller.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("initialize", out var init) || init.Deserialize(ParamsType) is not { } parameters)
            {
                return null;
            }
            var route = root.TryGetProperty("route", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return new McpSessionRecord(caller.GetString()!, route, parameters);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Where session records live: this process (<see cref="MemoryMcpSessionRecordStore"/>) or Redis (<see cref="RedisMcpSessionRecordStore"/>), shared by replicas.</summary>
public interface IMcpSessionRecordStore
{
    /// <summary><c>memory</c> or <c>redis</c>.</summary>
    string Name { get; }

    /// <summary>Stores the record for <see cref="McpOptions.SessionIdleTimeout"/>. Never throws for an unavailable store (it logs and the session stays local).</summary>
    ValueTask SaveAsync(string sessionId, McpSessionRecord record, CancellationToken ct);

    /// <summary>The record, its expiry pushed back by the idle timeout; null when there is none (expired, unknown, or the store is unavailable).</summary>
    ValueTask<McpSessionRecord?> FindAsync(string sessionId, CancellationToken ct);

    /// <summary>Forgets a session (the client deleted it).</summary>
    ValueTask RemoveAsync(string sessionId, CancellationToken ct);
}

/// <summary>Session records in this process: they survive the SDK dropping an idle session, not a restart, and are not seen by other replicas.</summary>
public sealed class MemoryMcpSessionRecordStore(TimeSpan idleTimeout, int maxRecords, TimeProvider? time = null) : IMcpSessionRecordStore
{
    private readonly ConcurrentDictionary<string, Entry> _records = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Name => "memory";

    /// <summary>Records currently kept (for tests and diagnostics).</summary>
    public int Count => _records.Count;

    public ValueTask SaveAsync(string sessionId, McpSessionRecord record, CancellationToken ct)
    {
        _records[sessionId] = new Entry(record, _time.GetUtcNow() + idleTimeout);
        if (_records.Count > maxRecords)
        {
            Trim();
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<McpSessionRecord?> FindAsync(string sessionId, CancellationToken ct)
    {
        if (!_records.TryGetValue(sessionId, out var entry))
        {
            return ValueTask.FromResult<McpSessionRecord?>(null);
        }
        var now = _time.GetUtcNow();
        if (entry.ExpiresAt <= now)
        {
            _records.TryRemove(new KeyValuePair<string, Entry>(sessionId, entry));
            return ValueTask.FromResult<McpSessionRecord?>(null);
        }
        _records.TryUpdate(sessionId, entry with { ExpiresAt = now + idleTimeout }, entry);
        return ValueTask.FromResult<McpSessionRecord?>(entry.Record);
    }

    public ValueTask RemoveAsync(string sessionId, CancellationToken ct)
    {
        _records.TryRemove(sessionId, out _);
        return ValueTask.CompletedTask;
    }

    /// <summary>Drops expired records, then the ones closest to expiry until the count is back under the limit.</summary>
    private void Trim()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, entry) in _records)
        {
            if (entry.ExpiresAt <= now)
            {
                _records.TryRemove(id, out _);
            }
        }
        var excess = _records.Count - maxRecords;
        if (excess > 0)
        {
            foreach (var (id, _) in _records.OrderBy(r => r.Value.ExpiresAt).Take(excess).ToList())
            {
                _records.TryRemove(id, out _);
            }
        }
    }

    private sealed record Entry(McpSessionRecord Record, DateTimeOffset ExpiresAt);
}

/// <summary>
/// Session records in Redis, on the engine's shared connection, under <c>switchyard:mcp:session:{id}</c> with the idle
/// timeout as expiry (renewed on every lookup), so a session opened on one replica continues on any other.
/// </summary>
public sealed class RedisMcpSessionRecordStore(RedisConnection redis, TimeSpan idleTimeout, ILogger<RedisMcpSessionRecordStore> logger) : IMcpSessionRecordStore
{
    public const string KeyPrefix = "switchyard:mcp:session:";

    public string Name => "redis";

    public async ValueTask SaveAsync(string sessionId, McpSessionRecord record, CancellationToken ct)
    {
        try
        {
            var db = await redis.DatabaseAsync(ct).ConfigureAwait(false);
            await redis.RunAsync(db.StringSetAsync(KeyPrefix + sessionId, record.ToJson(), idleTimeout), ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisUnavailableException or RedisException)
        {
            logger.LogWarning("MCP session {SessionId} was not recorded in Redis ({Reason}); it continues on this replica only", sessionId, ex.Message);
        }
    }

    public async ValueTask<McpSessionRecord?> FindAsync(string sessionId, CancellationToken ct)
    {
        try
        {
            var db = await redis.DatabaseAsync(ct).ConfigureAwait(false);
            var value = await redis.RunAsync(db.StringGetSetExpiryAsync(KeyPrefix + sessionId, idleTimeout), ct).ConfigureAwait(false);
            if (value.IsNull)
            {
                return null;
            }
            var record = McpSessionRecord.FromJson((byte[])value!);
            if (record is null)
            {
                logger.LogWarning("The Redis record of MCP session {SessionId} is not readable; the session cannot move to this replica", sessionId);
            }
            return record;
        }
        catch (Exception ex) when (ex is RedisUnavailableException or RedisException)
        {
            logger.LogWarning("MCP session {SessionId} could not be looked up in Redis ({Reason}); the client must start a new session", sessionId, ex.Message);
            return null;
        }
    }

    public async ValueTask RemoveAsync(string sessionId, CancellationToken ct)
    {
        try
        {
            var db = await redis.DatabaseAsync(ct).ConfigureAwait(false);
            await redis.RunAsync(db.KeyDeleteAsync(KeyPrefix + sessionId), ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisUnavailableException or RedisException)
        {
            logger.LogWarning("MCP session {SessionId} could not be removed from Redis ({Reason}); it expires on its own", sessionId, ex.Message);
        }
    }
}
