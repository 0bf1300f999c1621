using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit;

namespace Switchyard.Tests.Mcp.Clients;

/// <summary>The C# SDK's <see cref="McpClient"/> over Streamable HTTP, in either era, as the real-client tests use it.</summary>
public static class McpClientFactory
{
    /// <summary>The stateless revision (the SDK's default: it probes with <c>server/discover</c>, falling back to <c>initialize</c>).</summary>
    public const string Modern = "2026-07-28";

    /// <summary>The session revision (pinning it makes the SDK open with <c>initialize</c> and never probe).</summary>
    public const string Legacy = "2025-11-25";

    /// <summary>
    /// Connects to <paramref name="endpoint"/>; <paramref name="protocolVersion"/> null is the SDK default (modern first),
    /// <see cref="Legacy"/> pins the 2025 handshake. <paramref name="headers"/> are sent on every request (the gateway key).
    /// </summary>
    public static Task<McpClient> ConnectAsync(Uri endpoint, string? protocolVersion = null, IDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = endpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = headers,
            }),
            new McpClientOptions
            {
                ClientInfo = new Implementation { Name = "switchyard-tests", Version = "1.0.0" },
                ProtocolVersion = protocolVersion,
                InitializationTimeout = TimeSpan.FromSeconds(30),
            },
            cancellationToken: cancellationToken);

    /// <summary>The text of a tool result's first text block.</summary>
    public static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;
}
