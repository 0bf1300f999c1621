using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol;

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// The pagination cursor of an aggregated list: every member's own cursor in one opaque base64url token
/// (<c>{"server id": "cursor"}</c>); a member missing from the token has no more pages. Single-upstream routes pass
/// cursors through unchanged and never use this.
/// </summary>
public static class McpCompositeCursor
{
    public static string? Encode(IReadOnlyDictionary<string, string> next)
    {
        if (next.Count == 0)
        {
            return null;
        }
        var json = new JsonObject();
        foreach (var (server, cursor) in next)
        {
            json[server] = cursor;
        }
        return WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    /// <summary>The members' cursors; throws an invalid-params protocol error for a token this gateway did not issue.</summary>
    public static Dictionary<string, string> Decode(string cursor)
    {
        try
        {
            if (JsonNode.Parse(WebEncoders.Base64UrlDecode(cursor)) is JsonObject json)
            {
                var decoded = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (server, value) in json)
                {
                    if (value is not JsonValue v || !v.TryGetValue<string>(out var s))
                    {
                        throw new FormatException();
                    }
                    decoded[server] = s;
                }
                return decoded;
            }
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
        }
        throw new McpProtocolException("Invalid pagination cursor", McpErrorCode.InvalidParams);
    }
}
