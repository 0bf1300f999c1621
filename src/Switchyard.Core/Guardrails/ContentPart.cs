using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails;

/// <summary>The "current" content of a request or response (Portkey's getCurrentContentPart): the raw node and its texts.</summary>
/// <param name="Content">The last message's content, the prompt, the input, or the first choice's content; null when absent.</param>
/// <param name="Texts">One entry per part, <c>""</c> for parts without text.</param>
public sealed record ContentPart(JsonNode? Content, IReadOnlyList<string> Texts)
{
    /// <summary>The non-empty texts joined with a newline (Portkey's getText).</summary>
    public string Text => string.Join('\n', Texts.Where(t => t.Length > 0));
}
