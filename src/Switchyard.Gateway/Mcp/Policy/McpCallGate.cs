namespace Switchyard.Gateway.Mcp.Policy;

/// <summary>
/// Fourth step: for a <c>tools/call</c>, reads the tool name from the JSON-RPC body (the body stays readable) and admits the
/// call with <see cref="IMcpPolicy.AdmitCallAsync"/>: a refusal is answered here (JSON-RPC -32602, or 429 with Retry-After
/// and a JSON-RPC error carrying the request id) and recorded. Stub until the policy work lands: admits everything.
/// </summary>
public sealed class McpCallGate
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next) => next(context);
}
