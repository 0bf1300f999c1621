using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Security.ApiKeys;

/// <summary>One gateway API key as defined in a key file: who it is, what it may do. The key itself is never held, only its hash.</summary>
public sealed record ApiKey
{
    public required string Name { get; init; }

    public string? Team { get; init; }

    /// <summary>SHA-256 of the UTF-8 key.</summary>
    public required byte[] Hash { get; init; }

    public FrozenSet<string> Scopes { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Named configs the key may use; null allows any.</summary>
    public FrozenSet<string>? Configs { get; init; }

    /// <summary>Providers the key may reach; null allows any.</summary>
    public FrozenSet<string>? Providers { get; init; }

    /// <summary>Models the key may ask for; null allows any.</summary>
    public FrozenSet<string>? Models { get; init; }

    /// <summary>Default <c>x-portkey-metadata</c> entries; the request's own keys win.</summary>
    public JsonObject? Metadata { get; init; }

    /// <summary>Virtual keys (slugs) the key may use; null allows any.</summary>
    public FrozenSet<string>? VirtualKeys { get; init; }

    /// <summary>MCP servers (ids as in the servers file: <c>everything</c>, <c>acme/fs</c>) whose tools the key may see and call (<c>mcp_servers</c>); null allows any.</summary>
    public FrozenSet<string>? McpServers { get; init; }

    /// <summary>MCP tools the key may see and call (<c>mcp_tools</c>): <c>server/tool</c> or <c>server/*</c> entries; null allows any.</summary>
    public FrozenSet<string>? McpTools { get; init; }

    /// <summary>Whether the key's <see cref="McpServers"/> and <see cref="McpTools"/> let it use <paramref name="tool"/> (the upstream's own name) of <paramref name="server"/>.</summary>
    public bool PermitsMcpTool(string server, string tool) =>
        (McpServers is null || McpServers.Contains(server))
        && (McpTools is null || McpTools.Contains(server + "/*") || McpTools.Contains(server + "/" + tool));

    /// <summary>The key's own rate limits and budgets (<c>rate_limits</c>, <c>budgets</c>).</summary>
    public IReadOnlyList<Limits.LimitRule> Limits { get; init; } = [];

    public DateTimeOffset? ExpiresAt { get; init; }

    public bool Disabled { get; init; }

    /// <summary>The file the key came from, for health and logs.</summary>
    public string File { get; init; } = "";
}

/// <summary>The scopes a gateway key can carry.</summary>
public static class ApiKeyScopes
{
    public const string CompletionsWrite = "completions.write";
    public const string LogsRead = "logs.read";
    public const string McpInvoke = "mcp.invoke";
    public const string Admin = "admin";

    public static readonly FrozenSet<string> All = new[] { CompletionsWrite, LogsRead, McpInvoke, Admin }.ToFrozenSet(StringComparer.Ordinal);
}
