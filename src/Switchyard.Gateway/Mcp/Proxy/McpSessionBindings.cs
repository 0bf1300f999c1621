using System.Collections.Concurrent;

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// Which route and caller each live legacy-era downstream session belongs to. The SDK keeps one session table for every
/// mapped endpoint, so without this a session created on <c>/a/mcp</c> would answer on <c>/b/mcp</c>. Entries are added when
/// the session is created and removed when it ends (DELETE, idle expiry, shutdown). A session id this process does not know
/// (not yet created, or created on another replica) is left to the SDK, which answers 404 or migrates it.
/// </summary>
public sealed class McpSessionBindings
{
    public const string HeaderName = "Mcp-Session-Id";

    private readonly ConcurrentDictionary<string, (string Route, string CallerId)> _sessions = new(StringComparer.Ordinal);

    /// <summary>Live sessions.</summary>
    public int Count => _sessions.Count;

    public void Add(string sessionId, string route, string callerId) => _sessions[sessionId] = (route, callerId);

    public void Remove(string sessionId) => _sessions.TryRemove(sessionId, out _);

    /// <summary>False when the session is known and was created on another route or by another caller.</summary>
    public bool Matches(string sessionId, string route, string callerId) =>
        !_sessions.TryGetValue(sessionId, out var bound) || (bound.Route == route && bound.CallerId == callerId);

    public bool TryGet(string sessionId, out string route, out string callerId)
    {
        var found = _sessions.TryGetValue(sessionId, out var bound);
        (route, callerId) = bound;
        return found;
    }
}
