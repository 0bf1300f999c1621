namespace Switchyard.Gateway.Hosting;

/// <summary>What one process serves (<c>SERVER_MODE</c>), with Portkey's values.</summary>
public enum ServerMode
{
    /// <summary>Unset or empty: the AI gateway.</summary>
    Gateway,

    /// <summary><c>mcp</c>: the MCP gateway alone, on <c>MCP_PORT</c>.</summary>
    Mcp,

    /// <summary><c>all</c>: both in one process (the MCP gateway on <c>MCP_PORT</c>, or on the main port when <c>MCP_PORT</c> equals <c>PORT</c>).</summary>
    All,
}

/// <summary>Reading <c>SERVER_MODE</c>.</summary>
public static class ServerModes
{
    /// <summary>The <c>SERVER_MODE</c> values this build starts with.</summary>
    public static IReadOnlyList<string> Implemented { get; } = ["", "mcp", "all"];

    public static ServerMode Parse(string? raw)
    {
        var value = raw?.Trim().ToLowerInvariant() ?? "";
        return value switch
        {
            "" => ServerMode.Gateway,
            "mcp" => ServerMode.Mcp,
            "all" => ServerMode.All,
            _ => throw new FormatException($"SERVER_MODE={raw!.Trim()} is not valid: leave it unset or empty for the AI gateway, mcp for the MCP gateway alone, or all for both."),
        };
    }

    /// <summary>Whether the mode runs the MCP gateway.</summary>
    public static bool ServesMcp(this ServerMode mode) => mode is ServerMode.Mcp or ServerMode.All;

    /// <summary>Whether the mode runs the AI gateway (its <c>/v1</c> routes on <c>PORT</c>).</summary>
    public static bool ServesAi(this ServerMode mode) => mode is ServerMode.Gateway or ServerMode.All;
}
