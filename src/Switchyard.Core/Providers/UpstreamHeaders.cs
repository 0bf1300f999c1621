namespace Switchyard.Core.Providers;

/// <summary>Which headers never cross the gateway in either direction.</summary>
public static class UpstreamHeaders
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect",
    };

    /// <summary>True for hop-by-hop headers and those the HTTP stack sets itself.</summary>
    public static bool IsHopByHop(string name) => HopByHop.Contains(name);

    /// <summary>Client headers a proxied request must not carry upstream: gateway controls and the client's own credentials.</summary>
    public static bool IsGatewayOnly(string name) =>
        name.StartsWith("x-portkey-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("authorization", StringComparison.OrdinalIgnoreCase)
        || name.Equals("api-key", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-api-key", StringComparison.OrdinalIgnoreCase)
        || name.Equals("cookie", StringComparison.OrdinalIgnoreCase);
}
