namespace Switchyard.Simulators;

/// <summary>Error replies in OpenAI's <c>{"error":{message,type,param,code}}</c> shape.</summary>
internal static class OpenAiErrors
{
    public static SimReply Reply(int status, string message, string type, string? param = null, string? code = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var body = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", message);
            w.WriteString("type", type);
            WriteNullable(w, "param", param);
            WriteNullable(w, "code", code);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        return SimReply.Json(status, body, headers);
    }

    public static SimReply InvalidRequest(string message, string? param = null, string? code = null) =>
        Reply(400, message, "invalid_request_error", param, code);

    public static SimReply MissingModel() => InvalidRequest("you must provide a model parameter");

    public static SimReply MissingParameter(string name) => InvalidRequest($"Missing required parameter: '{name}'.", name);

    public static SimReply InvalidType(string name, string expected, System.Text.Json.JsonElement actual) =>
        InvalidRequest($"Invalid type for '{name}': expected {expected}, but got {RequestFields.Describe(actual)} instead.", name, "invalid_type");

    public static SimReply NotFound(string method, string path) =>
        Reply(404, $"Invalid URL ({method} {path})", "invalid_request_error");

    public static SimReply InvalidJson() => InvalidRequest(
        "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.");

    /// <summary>The reply for a scripted <see cref="FaultKind.Error"/>, typed the way OpenAI types that status.</summary>
    public static SimReply ForFault(SimulatedFault fault)
    {
        var status = fault.StatusCode;
        var (type, code, message) = status switch
        {
            401 => ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
            403 => ("permission_error", (string?)null, "You are not allowed to access this resource."),
            404 => ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
            408 => ("timeout", null, "Request timed out."),
            // OpenAI: type "requests" (or "tokens") with code rate_limit_exceeded.
            429 => ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
            503 => ("server_error", null, "The server is overloaded or not ready yet."),
            >= 500 => ("server_error", null, "The server had an error while processing your request. Sorry about that!"),
            _ => ("invalid_request_error", null, "The request was rejected."),
        };
        return Reply(status, fault.Message ?? message, type, null, code, fault.Headers);
    }

    private static void WriteNullable(System.Text.Json.Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
