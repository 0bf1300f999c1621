using System.ClientModel.Primitives;

namespace Switchyard.Tests.Infrastructure;

/// <summary>Adds gateway headers (x-portkey-*) to every call an OpenAI .NET SDK client makes, the way users configure default headers.</summary>
public sealed class GatewayHeaderPolicy(params (string Name, string Value)[] headers) : PipelinePolicy
{
    public GatewayHeaderPolicy(IEnumerable<(string Name, string Value)> headers)
        : this([.. headers])
    {
    }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Apply(message);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Apply(message);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }

    private void Apply(PipelineMessage message)
    {
        foreach (var (name, value) in headers)
        {
            message.Request.Headers.Set(name, value);
        }
    }
}
