namespace Switchyard.Core.Guardrails.Pii;

/// <summary>One detected item: its category, the detector that found it (<c>us_ssn</c>, <c>jwt</c>, …) and where it is.</summary>
public readonly record struct PiiFinding(PiiCategory Category, string Kind, int Start, int Length)
{
    public int End => Start + Length;
}
