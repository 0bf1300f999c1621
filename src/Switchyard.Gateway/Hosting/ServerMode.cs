namespace Switchyard.Gateway.Hosting;

/// <summary>What one process serves (<c>SERVER_MODE</c>), with Portkey's values.</summary>
public enum ServerMode
{
    /// <summary>Unset or empty: the AI gateway.</summary>
    Gateway,

    /// <summary><c>mcp</c>: the MCP gateway alone.</summary>
    Mcp,

    /// <summary><c>all</c>: both in one process.</summary>
    All,
}

/// <summary>Reading <c>SERVER_MODE</c>, and which modes this build can run.</summary>
public static class ServerModes
{
    /// <summary>The <c>SERVER_MODE</c> values this build starts with; the MCP modes join when the MCP gateway exists.</summary>
    public static IReadOnlyList<string> Implemented { get; } = [""];

    public static ServerMode Parse(string? raw)
    {
        var value = raw?.Trim().ToLowerInvariant() ?? "";
        return value switch
        {
            "" => ServerMode.Gateway,
            // Known to Portkey deployments (the chart and ECS templates set them), so they must not pass as the AI gateway.
            "mcp" or "all" => throw new FormatException(
                $"SERVER_MODE={raw!.Trim()} is not available: the MCP gateway is not built into Switchyard yet. Unset SERVER_MODE (or set it to an empty value) to run the AI gateway."),
            _ => throw new FormatException($"SERVER_MODE={raw!.Trim()} is not valid: leave it unset or empty for the AI gateway (mcp and all, the MCP gateway modes, are not built yet)."),
        };
    }
}
