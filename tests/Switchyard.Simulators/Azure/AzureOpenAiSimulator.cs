using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators.Azure;

/// <summary>One request as the Azure simulator saw it.</summary>
public sealed record AzureRecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>
/// A fake Azure OpenAI data plane on loopback: <c>/{resource}/openai/deployments/{deployment}/{op}?api-version=…</c> and
/// <c>/{resource}/openai/v1/{op}</c>, api-key or bearer auth, deployments mapped to models, content-filter annotations.
/// </summary>
public sealed class AzureOpenAiSimulator : IAsyncDisposable
{
    public static readonly IReadOnlySet<string> ApiVersions = new HashSet<string>
    {
        "2024-02-01", "2024-06-01", "2024-10-21", "2024-12-01-preview", "2025-01-01-preview", "2025-03-01-preview", "2025-04-01-preview",
    };

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<AzureRecordedRequest> _requests = new();
    private readonly ConcurrentQueue<(int Status, string Body)> _faults = new();

    private AzureOpenAiSimulator(WebApplication app) => _app = app;

    public string ApiKey { get; init; } = "azure-key";

    /// <summary>Bearer tokens accepted besides the api-key.</summary>
    public ConcurrentDictionary<string, bool> AcceptedTokens { get; } = new();

    /// <summary>Deployment name → underlying model name.</summary>
    public Dictionary<string, string> Deployments { get; } = new()
    {
        ["gpt-4o"] = "gpt-4o-2024-11-20", ["gpt-4o-mini"] = "gpt-4o-mini-2024-07-18", ["gpt-4.1"] = "gpt-4.1-2025-04-14",
        ["gpt-4.1-mini"] = "gpt-4.1-mini-2025-04-14", ["gpt-4.1-nano"] = "gpt-4.1-nano-2025-04-14", ["o3-mini"] = "o3-mini-2025-01-31",
        ["o4-mini"] = "o4-mini-2025-04-16", ["gpt-5-mini"] = "gpt-5-mini-2025-08-07", ["text-embedding-3-small"] = "text-embedding-3-small",
    };

    public int Port { get; private set; }

    /// <summary>Base URL template for PROVIDER_BASE_URLS: <c>http://127.0.0.1:PORT/{resource_name}/openai</c>.</summary>
    public string BaseTemplate => $"{Scheme}://127.0.0.1:{Port}/{{resource_name}}/openai";

    /// <summary>http, or https when started with a server certificate.</summary>
    public string Scheme { get; private init; } = "http";

    /// <summary>The simulator's own root, e.g. the Entra authority host <c>https://127.0.0.1:PORT/</c>.</summary>
    public string Root => $"{Scheme}://127.0.0.1:{Port}/";

    public IReadOnlyList<AzureRecordedRequest> Requests => [.. _requests];

    /// <summary>The next data-plane request answers with this status and body.</summary>
    public void FailNext(int status, string body) => _faults.Enqueue((status, body));

    /// <summary>Starts on 127.0.0.1 (HTTP, or HTTPS with <paramref name="serverCertificate"/>).</summary>
    public static async Task<AzureOpenAiSimulator> StartAsync(string apiKey = "azure-key", X509Certificate2? serverCertificate = null)
    {
        var app = LoopbackApp.Build(typeof(AzureOpenAiSimulator).Assembly.GetName().Name!, serverCertificate);
        var sim = new AzureOpenAiSimulator(app) { ApiKey = apiKey, Scheme = serverCertificate is null ? "http" : "https" };
        app.Run(sim.HandleAsync);
        await app.StartAsync();
        sim.Port = LoopbackApp.Port(app);
        return sim;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new AzureRecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", headers, body);
        var (status, reply, contentType) = Identity.TryAnswer(request, body, recorded, this) ?? Record(recorded, Answer(request, body));
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(reply);
    }

    private (int, string, string) Record(AzureRecordedRequest recorded, (int, string, string) answer)
    {
        _requests.Enqueue(recorded);
        return answer;
    }

    /// <summary>The fake Microsoft Entra / managed identity side: token endpoints, what they issued, what they were asked.</summary>
    public AzureIdentitySimulator Identity { get; } = new();

    private readonly ConcurrentQueue<(string Id, string Name, string[] Pieces)> _toolCalls = new();

    /// <summary>The next chat answers with a call of <paramref name="name"/>; streamed, its arguments arrive in <paramref name="argumentPieces"/>.</summary>
    public void ToolCallNext(string id, string name, params string[] argumentPieces) => _toolCalls.Enqueue((id, name, argumentPieces));

    private (int, string, string) Answer(HttpRequest request, string body)
    {
        const string Json = "application/json";
        // /{resource}/openai/deployments/{deployment}/{op}  or  /{resource}/openai/v1/{op}
        var parts = (request.Path.Value ?? "").Trim('/').Split('/');
        if (parts.Length < 3 || parts[1] != "openai")
        {
            return (404, Error("404", "Resource not found"), Json);
        }
        var v1 = parts[2] == "v1";
        string? deployment = null;
        string op;
        var apiVersion = request.Query["api-version"].ToString();
        if (v1)
        {
            op = string.Join('/', parts[3..]);
        }
        else
        {
            if (apiVersion.Length == 0)
            {
                return (404, Error("404", "Resource not found"), Json);
            }
            if (!ApiVersions.Contains(apiVersion))
            {
                return (400, Error("BadRequest", "API version not supported"), Json);
            }
            if (parts.Length < 5 || parts[2] != "deployments")
            {
                return (404, Error("404", "Resource not found"), Json);
            }
            deployment = parts[3];
            op = string.Join('/', parts[4..]);
        }

        var key = request.Headers["api-key"].ToString();
        var auth = request.Headers.Authorization.ToString();
        var bearer = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : null;
        if (!(key.Length > 0 && key == ApiKey) && !(bearer is not null && AcceptedTokens.ContainsKey(bearer)))
        {
            return (401, Error("401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."), Json);
        }

        JsonObject? root;
        try
        {
            root = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            root = null;
        }
        if (root is null)
        {
            return (400, Error("BadRequest", "Invalid JSON body"), Json);
        }
        if (v1)
        {
            deployment = root["model"]?.GetValue<string>();
        }
        if (deployment is null || !Deployments.TryGetValue(deployment, out var model))
        {
            return (404, Error("DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."), Json);
        }
        if (_faults.TryDequeue(out var fault))
        {
            return (fault.Status, fault.Body, Json);
        }
        if (op != "chat/completions")
        {
            return (404, Error("404", "Resource not found"), Json);
        }
        if (root["messages"] is not JsonArray { Count: > 0 } messages)
        {
            return (400, """{"error":{"message":"Missing required parameter: 'messages'.","type":"invalid_request_error","param":"messages","code":"missing_required_parameter"}}""", Json);
        }
        var words = 0;
        var last = "";
        foreach (var m in messages)
        {
            var text = m?["content"] is JsonValue v ? v.ToString() : "";
            words += text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            if (m?["role"]?.ToString() == "user")
            {
                last = text;
            }
        }
        var content = "echo: " + last;
        var completionTokens = content.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var usage = new JsonObject
        {
            ["completion_tokens"] = completionTokens, ["prompt_tokens"] = words, ["total_tokens"] = words + completionTokens,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
        };
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..12];
        var streamed = root["stream"] is JsonValue sv && sv.GetValue<bool>();
        if (_toolCalls.TryDequeue(out var call))
        {
            var arguments = string.Concat(call.Pieces);
            var callUsage = new JsonObject
            {
                ["completion_tokens"] = call.Pieces.Length + 1, ["prompt_tokens"] = words, ["total_tokens"] = words + call.Pieces.Length + 1,
                ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
            };
            if (streamed)
            {
                var sb = new StringBuilder();
                void Event(JsonObject o) => sb.Append("data: ").Append(o.ToJsonString()).Append("\n\n");
                Event(new JsonObject { ["choices"] = new JsonArray(), ["created"] = 0, ["id"] = "", ["model"] = "", ["object"] = "", ["prompt_filter_results"] = PromptFilter() });
                Event(Chunk(id, model, new JsonObject { ["role"] = "assistant", ["content"] = null }, null));
                Event(Chunk(id, model, new JsonObject
                {
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["index"] = 0, ["id"] = call.Id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "" },
                    }),
                }, null));
                foreach (var piece in call.Pieces)
                {
                    Event(Chunk(id, model, new JsonObject
                    {
                        ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = piece } }),
                    }, null));
                }
                Event(Chunk(id, model, new JsonObject(), "tool_calls"));
                if (root["stream_options"]?["include_usage"] is JsonValue cu && cu.GetValue<bool>())
                {
                    Event(new JsonObject { ["choices"] = new JsonArray(), ["created"] = 1, ["id"] = id, ["model"] = model, ["object"] = "chat.completion.chunk", ["usage"] = callUsage });
                }
                sb.Append("data: [DONE]\n\n");
                return (200, sb.ToString(), "text/event-stream");
            }
            var called = new JsonObject
            {
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["content_filter_results"] = new JsonObject(), ["finish_reason"] = "tool_calls", ["index"] = 0, ["logprobs"] = null,
                    ["message"] = new JsonObject
                    {
                        ["content"] = null, ["refusal"] = null, ["role"] = "assistant",
                        ["tool_calls"] = new JsonArray(new JsonObject
                        {
                            ["id"] = call.Id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = arguments },
                        }),
                    },
                }),
                ["created"] = 1, ["id"] = id, ["model"] = model, ["object"] = "chat.completion", ["prompt_filter_results"] = PromptFilter(),
                ["system_fingerprint"] = "fp_azure_sim", ["usage"] = callUsage,
            };
            return (200, called.ToJsonString(), Json);
        }
        if (streamed)
        {
            var sb = new StringBuilder();
            void Event(JsonObject o) => sb.Append("data: ").Append(o.ToJsonString()).Append("\n\n");
            Event(new JsonObject { ["choices"] = new JsonArray(), ["created"] = 0, ["id"] = "", ["model"] = "", ["object"] = "", ["prompt_filter_results"] = PromptFilter() });
            Event(Chunk(id, model, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null));
            foreach (var piece in content.Split(' '))
            {
                Event(Chunk(id, model, new JsonObject { ["content"] = piece + " " }, null));
            }
            Event(Chunk(id, model, new JsonObject(), "stop"));
            if (root["stream_options"]?["include_usage"] is JsonValue u && u.GetValue<bool>())
            {
                Event(new JsonObject { ["choices"] = new JsonArray(), ["created"] = 1, ["id"] = id, ["model"] = model, ["object"] = "chat.completion.chunk", ["usage"] = usage });
            }
            sb.Append("data: [DONE]\n\n");
            return (200, sb.ToString(), "text/event-stream");
        }
        var completion = new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject
            {
                ["content_filter_results"] = Filters(), ["finish_reason"] = "stop", ["index"] = 0, ["logprobs"] = null,
                ["message"] = new JsonObject { ["content"] = content, ["refusal"] = null, ["role"] = "assistant" },
            }),
            ["created"] = 1, ["id"] = id, ["model"] = model, ["object"] = "chat.completion", ["prompt_filter_results"] = PromptFilter(),
            ["system_fingerprint"] = "fp_azure_sim", ["usage"] = usage,
        };
        return (200, completion.ToJsonString(), Json);
    }

    private static JsonObject Chunk(string id, string model, JsonObject delta, string? finish) => new()
    {
        ["choices"] = new JsonArray(new JsonObject { ["content_filter_results"] = Filters(), ["delta"] = delta, ["finish_reason"] = finish, ["index"] = 0, ["logprobs"] = null }),
        ["created"] = 1, ["id"] = id, ["model"] = model, ["object"] = "chat.completion.chunk", ["system_fingerprint"] = "fp_azure_sim",
    };

    private static JsonObject Filters()
    {
        var o = new JsonObject();
        foreach (var c in new[] { "hate", "self_harm", "sexual", "violence" })
        {
            o[c] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" };
        }
        return o;
    }

    private static JsonArray PromptFilter() => new(new JsonObject { ["prompt_index"] = 0, ["content_filter_results"] = Filters() });

    public static string Error(string code, string message) => new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
