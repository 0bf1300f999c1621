using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Jwt;

/// <summary>A parsed JWKS: the usable keys by kid (keys that cannot verify anything are dropped, as jose ignores them).</summary>
internal sealed class JsonWebKeySet
{
    private readonly JsonWebKey[] _keys;

    private JsonWebKeySet(JsonWebKey[] keys) => _keys = keys;

    public int Count => _keys.Length;

    /// <summary>Every usable key, for a token without a <c>kid</c>.</summary>
    public IReadOnlyList<JsonWebKey> Keys => _keys;

    public JsonWebKey? Find(string kid)
    {
        foreach (var key in _keys)
        {
            if (key.Kid == kid) return key;
        }
        return null;
    }

    /// <summary>Parses <c>{"keys":[…]}</c>; null with a reason when the document is not a key set or has no usable key.</summary>
    public static JsonWebKeySet? Parse(JsonNode? node, out string? error)
    {
        if (node is not JsonObject obj || obj["keys"] is not JsonArray array)
        {
            error = "a JWKS must be an object with a 'keys' array";
            return null;
        }
        var keys = new List<JsonWebKey>();
        string? firstProblem = null;
        foreach (var item in array)
        {
            if (item is not JsonObject jwk)
            {
                firstProblem ??= "a JWKS key must be an object";
                continue;
            }
            var key = JsonWebKey.Parse(jwk, out var problem);
            if (key is null) firstProblem ??= problem;
            else keys.Add(key);
        }
        if (keys.Count == 0)
        {
            error = "the JWKS has no usable key" + (firstProblem is null ? "" : ": " + firstProblem);
            return null;
        }
        error = null;
        return new JsonWebKeySet([.. keys]);
    }
}
