using System.Text.Json;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Endpoints;

/// <summary><c>GET /v1/health/ready</c>: 200 when this replica should get traffic, 503 with the reasons when not (Kubernetes readiness).</summary>
internal sealed class ReadinessEndpoint(GatewayReadiness readiness)
{
    public async Task HandleAsync(HttpContext context)
    {
        var reasons = await readiness.ReasonsAsync(context.RequestAborted);
        context.Response.StatusCode = reasons.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        Write(json, reasons, "status");
        json.WriteString("version", HealthEndpoint.Version);
        json.WriteEndObject();
    }

    /// <summary>The state and its reasons; <c>/v1/health</c> writes the same under <c>readiness</c>.</summary>
    internal static void Write(Utf8JsonWriter json, IReadOnlyList<string> reasons, string stateName)
    {
        json.WriteString(stateName, reasons.Count == 0 ? "ready" : "not_ready");
        json.WriteStartArray("reasons");
        foreach (var reason in reasons)
        {
            json.WriteStringValue(reason);
        }
        json.WriteEndArray();
    }
}
