namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// Our own modern-era (2026-07-28, also answering 2025-era requests) MCP server, tests/mcp-fixtures/modern-server.mjs on
/// <c>@modelcontextprotocol/server</c> 2.4.0, started on 127.0.0.1 port 0 with the system Node and stopped by PID.
/// Tools: <c>add {a,b}</c>, <c>echo {message}</c>, <c>describe</c> (its description is <see cref="McpModernFixtureOptions.ToolDescription"/>).
/// Serves every path; tests use <c>/mcp</c>.
/// </summary>
public static class McpModernFixture
{
    /// <summary>The script's path.</summary>
    public static string Script => Path.Combine(McpFixtures.Directory, "modern-server.mjs");

    /// <summary>Starts the server; its MCP endpoint is <c>new Uri(fixture.BaseUrl, "/mcp")</c>.</summary>
    public static Task<McpFixtureProcess> StartAsync(McpModernFixtureOptions? options = null)
    {
        options ??= new McpModernFixtureOptions();
        var environment = new Dictionary<string, string>();
        if (options.ToolDescription is { } description)
        {
            environment["TOOL_DESCRIPTION"] = description;
        }
        if (options.RequireHeader is { } header)
        {
            environment["REQUIRE_HEADER"] = $"{header.Name}:{header.Value}";
        }
        if (options.RecordHeadersFile is { } file)
        {
            environment["RECORD_HEADERS"] = file;
        }
        return McpFixtureProcess.StartAsync("node", [Script], environment);
    }
}

/// <summary>Settings of one <see cref="McpModernFixture"/> process (each maps to an environment variable of the script).</summary>
public sealed record McpModernFixtureOptions
{
    /// <summary>The <c>describe</c> tool's description (<c>TOOL_DESCRIPTION</c>), for tool-pinning tests; null keeps the default text.</summary>
    public string? ToolDescription { get; init; }

    /// <summary>Every request without exactly this header gets 401 (<c>REQUIRE_HEADER</c>), for credential-injection tests.</summary>
    public (string Name, string Value)? RequireHeader { get; init; }

    /// <summary>Each request's headers are appended to this file as a JSON line <c>{"method","url","headers":{…}}</c> (<c>RECORD_HEADERS</c>).</summary>
    public string? RecordHeadersFile { get; init; }
}
