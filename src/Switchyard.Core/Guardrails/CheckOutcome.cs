using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails;

/// <summary>What one check decided; a transforming check also carries the replacement request or response body.</summary>
public sealed record CheckOutcome(bool Verdict, JsonNode? Data, CheckError? Error = null, bool Transformed = false, JsonNode? Log = null)
{
    /// <summary>The new request body (client protocol) when the check rewrote it; applied by the runner.</summary>
    public JsonObject? TransformedRequest { get; init; }

    /// <summary>The new response body (client protocol) when the check rewrote it; applied by the runner.</summary>
    public JsonObject? TransformedResponse { get; init; }

    /// <summary>A failed check: verdict false with an error.</summary>
    public static CheckOutcome Failed(string message, JsonNode? data = null) => new(false, data, CheckError.Of(message));
}
