using Switchyard.Core.Requests;

namespace Switchyard.Core.Providers;

/// <summary>The providers Switchyard knows, as data. Adding an OpenAI-compatible provider is one entry here.</summary>
public static class ProviderCatalog
{
    private static readonly (string Field, string Header)[] OpenAiHeaders =
    [
        ("openai_organization", "OpenAI-Organization"),
        ("openai_project", "OpenAI-Project"),
        ("openai_beta", "OpenAI-Beta"),
    ];

    private static readonly HashSet<EndpointKind> ChatAndEmbeddingsOnly =
        [EndpointKind.ImageGenerate, EndpointKind.CreateSpeech, EndpointKind.CreateTranscription, EndpointKind.CreateTranslation, EndpointKind.Moderate, EndpointKind.Rerank];

    public static IReadOnlyList<ProviderDescriptor> OpenAiCompatible { get; } =
    [
        new() { Slug = "openai", BaseUrl = "https://api.openai.com/v1", FieldHeaders = OpenAiHeaders, NativeResponses = true },
        new()
        {
            Slug = "cerebras", BaseUrl = "https://api.cerebras.ai/v1",
            // Cerebras rejects these OpenAI parameters.
            DroppedParameters = ["frequency_penalty", "logit_bias", "logprobs", "presence_penalty", "parallel_tool_calls", "service_tier"],
            Unsupported = ChatAndEmbeddingsOnly,
        },
        new() { Slug = "groq", BaseUrl = "https://api.groq.com/openai/v1", DroppedParameters = ["logit_bias", "top_logprobs"] },
        new() { Slug = "together-ai", BaseUrl = "https://api.together.xyz/v1" },
        new() { Slug = "fireworks-ai", BaseUrl = "https://api.fireworks.ai/inference/v1" },
        new() { Slug = "deepseek", BaseUrl = "https://api.deepseek.com/v1", Unsupported = ChatAndEmbeddingsOnly },
        new() { Slug = "mistral-ai", BaseUrl = "https://api.mistral.ai/v1" },
        new() { Slug = "x-ai", BaseUrl = "https://api.x.ai/v1" },
        new() { Slug = "openrouter", BaseUrl = "https://openrouter.ai/api/v1" },
        new() { Slug = "perplexity-ai", BaseUrl = "https://api.perplexity.ai", Unsupported = new HashSet<EndpointKind>(ChatAndEmbeddingsOnly) { EndpointKind.Embed } },
        new() { Slug = "ollama", BaseUrl = null, Auth = AuthScheme.None, CustomHostPathPrefix = "/v1" },
        new() { Slug = "deepinfra", BaseUrl = "https://api.deepinfra.com/v1/openai" },
        new() { Slug = "sambanova", BaseUrl = "https://api.sambanova.ai/v1" },
        new() { Slug = "nebius", BaseUrl = "https://api.studio.nebius.ai/v1" },
        new() { Slug = "lambda", BaseUrl = "https://api.lambdalabs.com/v1" },
        new() { Slug = "hyperbolic", BaseUrl = "https://api.hyperbolic.xyz/v1" },
        new() { Slug = "novita-ai", BaseUrl = "https://api.novita.ai/v3/openai" },
        new() { Slug = "siliconflow", BaseUrl = "https://api.siliconflow.cn/v1" },
        new() { Slug = "moonshot", BaseUrl = "https://api.moonshot.cn/v1" },
        new() { Slug = "dashscope", BaseUrl = "https://dashscope.aliyuncs.com/compatible-mode/v1" },
        new() { Slug = "github", BaseUrl = "https://models.inference.ai.azure.com" },
        new() { Slug = "nscale", BaseUrl = "https://inference.api.nscale.com/v1" },
        new() { Slug = "lemonfox-ai", BaseUrl = "https://api.lemonfox.ai/v1" },
    ];

    /// <summary>Providers that need a translating adapter; their slugs validate in configs so configs can name them before the adapter ships.</summary>
    public static IReadOnlyList<ProviderDescriptor> Translated { get; } =
    [
        new() { Slug = "anthropic", BaseUrl = "https://api.anthropic.com/v1", Family = "anthropic", Auth = AuthScheme.Header, AuthHeader = "x-api-key" },
        new() { Slug = "azure-openai", BaseUrl = "https://{resource_name}.openai.azure.com/openai", Family = "azure-openai", Auth = AuthScheme.Header, AuthHeader = "api-key", NativeResponses = true },
        new() { Slug = "google", BaseUrl = "https://generativelanguage.googleapis.com", Family = "google", Auth = AuthScheme.Header, AuthHeader = "x-goog-api-key" },
        // {region} and {project} are filled in by the Vertex adapter (region "global" drops the "{region}-" prefix).
        new() { Slug = "vertex-ai", BaseUrl = "https://{region}-aiplatform.googleapis.com", Family = "vertex-ai", Auth = AuthScheme.None },
        new() { Slug = "bedrock", BaseUrl = "https://bedrock-runtime.{region}.amazonaws.com", Family = "bedrock", StreamUsageOption = false },
    ];
}
