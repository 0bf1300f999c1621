using System.Collections.Frozen;

namespace Switchyard.Gateway.Mcp;

/// <summary>How the gateway reaches an upstream MCP server (<c>type</c> in the servers file).</summary>
public enum McpUpstreamTransport
{
    /// <summary><c>http-sse</c> (or no <c>type</c> with a URL): Streamable HTTP in either era, falling back to HTTP+SSE.</summary>
    Auto,

    /// <summary><c>http</c>: Streamable HTTP only (the era is still detected: 2026-07-28 or the initialize handshake).</summary>
    StreamableHttp,

    /// <summary><c>sse</c>: the deprecated 2024-11-05 HTTP+SSE transport (GET the stream, POST to the endpoint it names).</summary>
    Sse,

    /// <summary><c>stdio</c>: a child process the gateway starts and supervises, newline-delimited JSON-RPC on its stdin/stdout.</summary>
    Stdio,
}

/// <summary>What the gateway does when an upstream tool's definition (description, schemas, annotations) changes (<c>pinning</c>).</summary>
public enum McpPinMode
{
    /// <summary>Definitions are not tracked.</summary>
    Off,

    /// <summary>A changed tool is still listed and callable; the change is logged, counted and shown in health.</summary>
    Alert,

    /// <summary>A changed tool is hidden from <c>tools/list</c> and refused at <c>tools/call</c> until the pin is accepted.</summary>
    Block,
}

/// <summary>Per-server tool allow and block lists (<c>tools.allowed</c>, <c>tools.blocked</c>), by the upstream's own tool names.</summary>
public sealed record McpToolRules
{
    /// <summary>Only these tools are listed and callable; null allows every tool not blocked.</summary>
    public FrozenSet<string>? Allowed { get; init; }

    /// <summary>These tools are never listed or callable (wins over <see cref="Allowed"/>).</summary>
    public FrozenSet<string> Blocked { get; init; } = FrozenSet<string>.Empty;

    public static McpToolRules All { get; } = new();

    public bool Permits(string tool) => !Blocked.Contains(tool) && (Allowed is null || Allowed.Contains(tool));
}

/// <summary>OAuth 2.0 client-credentials grant the gateway runs to get an upstream bearer token (<c>auth_type: oauth_client_credentials</c>).</summary>
public sealed record McpClientCredentials
{
    public required Uri TokenUrl { get; init; }
    public required string ClientId { get; init; }

    /// <summary>Resolved from its <c>${NAME}</c> reference when the file loaded; never logged.</summary>
    public required string ClientSecret { get; init; }

    public string? Scope { get; init; }

    /// <summary>RFC 8707 <c>resource</c> sent with the token request (default: the server's URL).</summary>
    public string? Resource { get; init; }
}

/// <summary>Whose calls one rate-limit rule counts together.</summary>
public enum McpRateScope
{
    /// <summary>Each caller (API key, JWT subject) has its own count.</summary>
    Caller,

    /// <summary>All callers of the server share one count.</summary>
    Server,
}

/// <summary>A tool-call rate limit of one server (<c>rate_limits</c> entries).</summary>
public sealed record McpRateLimit
{
    /// <summary>An upstream tool name, or <c>*</c> for every tool of the server (each tool counted separately).</summary>
    public string Tool { get; init; } = "*";

    public McpRateScope Per { get; init; } = McpRateScope.Caller;

    public required int Requests { get; init; }

    public required TimeSpan Window { get; init; }

    /// <summary>A sliding window (the default: the last <see cref="Window"/> at any moment) or a fixed one (counts reset at each multiple of <see cref="Window"/>).</summary>
    public bool Sliding { get; init; } = true;
}

/// <summary>One upstream MCP server from the servers file, with its credentials already resolved.</summary>
public sealed record McpUpstreamServer
{
    /// <summary>The key in the servers file and the URL path: <c>name</c> (served at <c>/name/mcp</c>) or <c>workspace/name</c> (at <c>/workspace/name/mcp</c>).</summary>
    public required string Id { get; init; }

    /// <summary>The server's own name (the last segment of <see cref="Id"/>); the prefix of its tools in virtual servers.</summary>
    public required string Name { get; init; }

    /// <summary>The workspace segment of <see cref="Id"/>, if any.</summary>
    public string? Workspace { get; init; }

    public McpUpstreamTransport Transport { get; init; } = McpUpstreamTransport.Auto;

    /// <summary>The upstream endpoint for the HTTP transports (the <c>/mcp</c> or <c>/sse</c> URL).</summary>
    public Uri? Url { get; init; }

    /// <summary>The program to start for <see cref="McpUpstreamTransport.Stdio"/>.</summary>
    public string? Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The child's environment for stdio (resolved); the gateway's own environment is not inherited.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = FrozenDictionary<string, string>.Empty;

    public string? WorkingDirectory { get; init; }

    /// <summary>Static headers sent upstream on every request (resolved credentials included).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = FrozenDictionary<string, string>.Empty;

    public McpClientCredentials? ClientCredentials { get; init; }

    /// <summary>Client request headers copied upstream (<c>forward_headers</c>); the protected set (Authorization, Cookie, gateway keys) never is.</summary>
    public FrozenSet<string> ForwardHeaders { get; init; } = FrozenSet<string>.Empty;

    public McpToolRules Tools { get; init; } = McpToolRules.All;

    /// <summary>How long connecting (and the handshake) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one upstream request (a tool call included) may take before it is cancelled upstream.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public McpPinMode Pinning { get; init; } = McpPinMode.Off;

    public IReadOnlyList<McpRateLimit> RateLimits { get; init; } = [];

    /// <summary>The file this server came from (for health and errors).</summary>
    public string File { get; init; } = "";
}

/// <summary>A named set of upstream servers served as one at <c>/v/{name}/mcp</c>, each tool, prompt and resource prefixed with its server.</summary>
public sealed record McpVirtualServer
{
    public required string Name { get; init; }

    /// <summary>The member servers' ids (keys of the servers file), in order.</summary>
    public required IReadOnlyList<string> Servers { get; init; }

    /// <summary>Between the server name and the tool or prompt name (default <c>__</c>): <c>everything__echo</c>.</summary>
    public string Separator { get; init; } = "__";

    public string File { get; init; } = "";
}

/// <summary>Everything the servers file(s) define, as one immutable value that a reload swaps whole.</summary>
public sealed record McpRegistry
{
    public FrozenDictionary<string, McpUpstreamServer> Servers { get; init; } = FrozenDictionary<string, McpUpstreamServer>.Empty;

    public FrozenDictionary<string, McpVirtualServer> VirtualServers { get; init; } = FrozenDictionary<string, McpVirtualServer>.Empty;

    public static McpRegistry Empty { get; } = new();

    /// <summary>
    /// The route a URL names: <c>/{server}/mcp</c> (the caller's team is tried as the workspace first, as Portkey takes the
    /// workspace from the token), <c>/{workspace}/{server}/mcp</c>, or <c>/v/{name}/mcp</c>. Null when nothing matches.
    /// </summary>
    public McpRoute? Resolve(string? workspace, string server, string? callerTeam)
    {
        if (workspace == "v")
        {
            if (!VirtualServers.TryGetValue(server, out var virt))
            {
                return null;
            }
            var members = new List<McpUpstreamServer>(virt.Servers.Count);
            foreach (var id in virt.Servers)
            {
                if (Servers.TryGetValue(id, out var member))
                {
                    members.Add(member);
                }
            }
            return new McpRoute { Path = "v/" + virt.Name, Upstreams = members, Prefixed = true, Separator = virt.Separator };
        }
        McpUpstreamServer? found = null;
        if (workspace is not null)
        {
            Servers.TryGetValue(workspace + "/" + server, out found);
        }
        else if ((callerTeam is null || !Servers.TryGetValue(callerTeam + "/" + server, out found)) && !Servers.TryGetValue(server, out found))
        {
            found = null;
        }
        return found is null ? null : new McpRoute { Path = found.Id, Upstreams = [found], Prefixed = false, Separator = "__" };
    }
}

/// <summary>What one downstream URL serves: a single upstream (names unchanged) or a virtual server (names prefixed).</summary>
public sealed record McpRoute
{
    /// <summary>The route as written in logs and metrics: <c>everything</c>, <c>acme/fs</c>, <c>v/dev</c>.</summary>
    public required string Path { get; init; }

    public required IReadOnlyList<McpUpstreamServer> Upstreams { get; init; }

    /// <summary>Whether tool and prompt names carry <c>{server}{separator}</c> (always, for virtual servers, even with one member).</summary>
    public bool Prefixed { get; init; }

    public string Separator { get; init; } = "__";

    /// <summary>The name a client sees for an upstream's tool or prompt.</summary>
    public string Expose(McpUpstreamServer server, string name) => Prefixed ? server.Name + Separator + name : name;

    /// <summary>The upstream and its own name for a name a client sent; false when no member matches.</summary>
    public bool TryResolveName(string exposed, out McpUpstreamServer server, out string name)
    {
        if (!Prefixed)
        {
            server = Upstreams[0];
            name = exposed;
            return true;
        }
        foreach (var candidate in Upstreams)
        {
            if (exposed.Length > candidate.Name.Length + Separator.Length && exposed.StartsWith(candidate.Name, StringComparison.Ordinal)
                && string.CompareOrdinal(exposed, candidate.Name.Length, Separator, 0, Separator.Length) == 0)
            {
                server = candidate;
                name = exposed[(candidate.Name.Length + Separator.Length)..];
                return true;
            }
        }
        server = null!;
        name = "";
        return false;
    }
}
