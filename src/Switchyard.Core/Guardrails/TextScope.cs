namespace Switchyard.Core.Guardrails;

/// <summary>Which texts of a body a check reads and rewrites.</summary>
public enum TextScope
{
    /// <summary>Portkey's current content part: the last message / prompt / input, or the first choice of a response.</summary>
    Current,

    /// <summary>Every text the body carries: all messages, system prompts and instructions, every choice or output item.</summary>
    All,
}
