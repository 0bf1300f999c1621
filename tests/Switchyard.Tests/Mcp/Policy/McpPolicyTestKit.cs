using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;
using Switchyard.Core.Limits;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Policy;

namespace Switchyard.Tests.Mcp.Policy;

/// <summary>Servers, tools, callers and policies for the policy tests.</summary>
internal static class McpPolicyTestKit
{
    public static McpUpstreamServer UpstreamServer(string id = "everything", McpPinMode pinning = McpPinMode.Off, McpToolRules? tools = null,
        params McpRateLimit[] limits) => new()
        {
            Id = id,
            Name = id.Contains('/') ? id[(id.IndexOf('/') + 1)..] : id,
            Workspace = id.Contains('/') ? id[..id.IndexOf('/')] : null,
            Url = new Uri("http://127.0.0.1:1/mcp"),
            Pinning = pinning,
            Tools = tools ?? McpToolRules.All,
            RateLimits = limits,
        };

    public static McpRoute Route(McpUpstreamServer server) => new() { Path = server.Id, Upstreams = [server] };

    public static McpCaller Caller(string name) => new() { Id = "key:" + name, Name = name, AuthType = "api_key" };

    public static McpToolRules Rules(string[]? allowed = null, params string[] blocked) =>
        new() { Allowed = allowed?.ToFrozenSet(StringComparer.Ordinal), Blocked = blocked.ToFrozenSet(StringComparer.Ordinal) };

    public static Tool Tool(string name, string description = "Echoes the message", string schema = """{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}""") =>
        new() { Name = name, Description = description, InputSchema = JsonDocument.Parse(schema).RootElement.Clone() };

    public static McpToolPins Pins(string? path = null, TimeProvider? time = null, ILogger? logger = null, System.Diagnostics.Metrics.Meter? meter = null) =>
        new(path, time ?? TimeProvider.System, logger ?? NullLogger.Instance, meter);

    public static McpPolicy NewPolicy(McpToolPins? pins = null, TimeProvider? time = null, ILimitCounterStore? shared = null) =>
        new(pins ?? Pins(time: time), new McpRateLimiter(shared, time ?? TimeProvider.System, NullLogger.Instance));

    public static McpRateLimit Limit(int requests, TimeSpan window, string tool = "*", McpRateScope per = McpRateScope.Caller, bool sliding = true) =>
        new() { Requests = requests, Window = window, Tool = tool, Per = per, Sliding = sliding };
}

/// <summary>A logger that keeps what was logged at warning level or above.</summary>
internal sealed class ListLogger : ILogger
{
    public List<string> Warnings { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= LogLevel.Warning)
        {
            lock (Warnings)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
