using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// Upstream tool calls waiting for a 2026-07-28 client's input (MRTR). The <c>requestState</c> handed to the client is the
/// call's id with an HMAC-SHA256 under a per-process random key, so a client cannot name another caller's call, and a retry
/// must reach the same gateway process (affinity) because the upstream call lives in its memory.
/// </summary>
public sealed class McpPendingCalls
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, PendingEntry> _calls = new(StringComparer.Ordinal);

    internal sealed record PendingEntry(string CallerId, string Route, McpRelayCall Call, Task<ModelContextProtocol.Protocol.CallToolResult> Upstream, Func<ValueTask> Release)
    {
        /// <summary>Completes the upstream's pending server-to-client request with the client's input response.</summary>
        public TaskCompletionSource<ModelContextProtocol.Protocol.InputResponse>? Answer { get; init; }

        /// <summary>Cancels the upstream call (downstream cancellation, bad retry).</summary>
        public Action Cancel { get; init; } = () => { };
    }

    /// <summary>Calls waiting for client input.</summary>
    public int Count => _calls.Count;

    internal string Park(PendingEntry entry)
    {
        var id = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
        _calls[id] = entry;
        // A client that never retries: the upstream call ends at its request timeout, and then the parked entry goes.
        _ = entry.Upstream.ContinueWith(async _ =>
        {
            if (_calls.TryRemove(id, out var expired))
            {
                await expired.Release();
            }
        }, TaskScheduler.Default);
        return id + "." + Sign(id);
    }

    internal PendingEntry? Take(string requestState, string callerId, string route)
    {
        var dot = requestState.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
        {
            return null;
        }
        var id = requestState[..dot];
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(id)), Encoding.ASCII.GetBytes(requestState[(dot + 1)..])))
        {
            return null;
        }
        if (!_calls.TryGetValue(id, out var entry) || entry.CallerId != callerId || entry.Route != route)
        {
            return null;
        }
        return _calls.TryRemove(id, out entry) ? entry : null;
    }

    internal void Forget(string requestState)
    {
        var dot = requestState.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            _calls.TryRemove(requestState[..dot], out _);
        }
    }

    private string Sign(string id) => WebEncoders.Base64UrlEncode(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(id)));
}
