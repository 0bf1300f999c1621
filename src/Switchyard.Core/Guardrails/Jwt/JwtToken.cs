using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Jwt;

/// <summary>A compact JWS split into its parts, with header and payload decoded (nothing verified yet).</summary>
internal sealed class JwtToken
{
    private JwtToken(JsonObject header, JsonObject payload, byte[] signedPart, byte[] signature)
    {
        Header = header;
        Payload = payload;
        SignedPart = signedPart;
        Signature = signature;
    }

    public JsonObject Header { get; }

    public JsonObject Payload { get; }

    public byte[] SignedPart { get; }

    public byte[] Signature { get; }

    public string? Alg => Header["alg"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public string? Kid => Header["kid"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static JwtToken? TryParse(string token, out string? error)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            error = parts.Length == 5 ? "encrypted tokens (JWE) are not supported" : "Invalid Compact JWS";
            return null;
        }
        try
        {
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0])) as JsonObject;
            var payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) as JsonObject;
            if (header is null || payload is null)
            {
                error = "Invalid JWT: the header and payload must be JSON objects";
                return null;
            }
            // JsonObject fills itself on first use; do it here so a duplicate member fails the parse, not a later claim read.
            _ = header.Count + payload.Count;
            error = null;
            return new JwtToken(header, payload, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]));
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            error = "Invalid JWT: " + ex.Message;
            return null;
        }
    }
}
