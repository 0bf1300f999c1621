using System.Text.Json;

namespace Switchyard.Core.Errors;

/// <summary>The one place that turns a <see cref="GatewayError"/> into the Portkey/OpenAI error body.</summary>
public static class ErrorResponseWriter
{
    public static byte[] Body(GatewayError error)
    {
        var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, error);
        }
        return buffer.ToArray();
    }

    private static void Write(Utf8JsonWriter json, GatewayError error)
    {
        json.WriteStartObject();
        switch (error.Category)
        {
            case ErrorCategory.NotFound:
                json.WriteString("message", "Not Found");
                json.WriteBoolean("ok", false);
                break;
            case ErrorCategory.Timeout or ErrorCategory.UpstreamUnreachable or ErrorCategory.BadUpstreamResponse or ErrorCategory.Overloaded:
                // Portkey answers timeouts in OpenAI's error shape so OpenAI SDKs surface the message.
                json.WriteStartObject("error");
                json.WriteString("message", error.Message);
                json.WriteString("type", error.Category switch
                {
                    ErrorCategory.Timeout => "timeout_error",
                    ErrorCategory.BadUpstreamResponse => "bad_upstream_response",
                    ErrorCategory.Overloaded => "server_overloaded",
                    _ => "upstream_connection_error",
                });
                json.WriteNull("param");
                json.WriteNull("code");
                json.WriteEndObject();
                if (error.Provider is not null)
                {
                    json.WriteString("provider", error.Provider);
                }
                break;
            case ErrorCategory.RateLimited or ErrorCategory.UsageLimitExhausted:
                // Portkey's authN/authZ shape: the code both in the message and in error.code.
                var code = error.Category == ErrorCategory.RateLimited ? "05" : "04";
                json.WriteString("status", "failure");
                json.WriteString("message", $"Portkey Error: {error.Message}. Error Code: {code}");
                json.WriteStartObject("error");
                json.WriteString("message", error.Message);
                json.WriteString("code", code);
                json.WriteEndObject();
                break;
            case ErrorCategory.VirtualKeyUsageLimitExhausted or ErrorCategory.PolicyUsageLimitExhausted:
                json.WriteStartObject("error");
                json.WriteString("message", error.Message);
                json.WriteString("type", error.Category == ErrorCategory.VirtualKeyUsageLimitExhausted ? "virtual_key_exhaust_error" : "usage_limits_policy_exhaust_error");
                json.WriteNull("param");
                json.WriteString("code", error.Category == ErrorCategory.VirtualKeyUsageLimitExhausted ? "04" : "06");
                json.WriteEndObject();
                break;
            default:
                json.WriteString("status", "failure");
                json.WriteString("message", error.Message);
                if (error.Errors is { Count: > 0 } list)
                {
                    json.WriteStartArray("errors");
                    foreach (var e in list)
                    {
                        json.WriteStringValue(e);
                    }
                    json.WriteEndArray();
                }
                break;
        }
        json.WriteEndObject();
    }
}
