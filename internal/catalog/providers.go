package catalog

import "github.com/gathering/gathering/internal/store"

// Providers are the built-in provider endpoints.
var Providers = []store.Provider{
	{Name: "openai", Kind: store.KindOpenAI, BaseURL: "https://api.openai.com/v1", KeyEnv: "OPENAI_API_KEY"},
	{Name: "anthropic", Kind: store.KindAnthropic, BaseURL: "https://api.anthropic.com", KeyEnv: "ANTHROPIC_API_KEY"},
	{Name: "deepseek", Kind: store.KindOpenAI, BaseURL: "https://api.deepseek.com/v1", KeyEnv: "DEEPSEEK_API_KEY"},
	{Name: "ollama", Kind: store.KindOpenAI, BaseURL: "http://127.0.0.1:11434/v1"},
}

// Models are the built-in models: limits in tokens, prices in US dollars per
// million tokens as the providers published them when this list was
// written. Administrators correct them through /models.
var Models = []store.Model{
	{Provider: "openai", Name: "gpt-4.1", ContextWindow: 1_047_576, MaxOutput: 32_768, PriceInput: 2, PriceOutput: 8, PriceCached: 0.5, Tools: true, Vision: true, Streaming: true},
	{Provider: "openai", Name: "gpt-4.1-mini", ContextWindow: 1_047_576, MaxOutput: 32_768, PriceInput: 0.4, PriceOutput: 1.6, PriceCached: 0.1, Tools: true, Vision: true, Streaming: true},
	{Provider: "openai", Name: "gpt-4o", ContextWindow: 128_000, MaxOutput: 16_384, PriceInput: 2.5, PriceOutput: 10, PriceCached: 1.25, Tools: true, Vision: true, Streaming: true},
	{Provider: "openai", Name: "gpt-4o-mini", Alias: "mini", ContextWindow: 128_000, MaxOutput: 16_384, PriceInput: 0.15, PriceOutput: 0.6, PriceCached: 0.075, Tools: true, Vision: true, Streaming: true},
	{Provider: "openai", Name: "o4-mini", ContextWindow: 200_000, MaxOutput: 100_000, PriceInput: 1.1, PriceOutput: 4.4, PriceCached: 0.275, Tools: true, Vision: true, Streaming: true},
	{Provider: "openai", Name: "text-embedding-3-small", ContextWindow: 8_191, PriceInput: 0.02},
	{Provider: "anthropic", Name: "claude-sonnet-4-5", Alias: "sonnet", ContextWindow: 200_000, MaxOutput: 64_000, PriceInput: 3, PriceOutput: 15, PriceCached: 0.3, Tools: true, Vision: true, Streaming: true},
	{Provider: "anthropic", Name: "claude-opus-4-1", Alias: "opus", ContextWindow: 200_000, MaxOutput: 32_000, PriceInput: 15, PriceOutput: 75, PriceCached: 1.5, Tools: true, Vision: true, Streaming: true},
	{Provider: "anthropic", Name: "claude-haiku-4-5", Alias: "haiku", ContextWindow: 200_000, MaxOutput: 64_000, PriceInput: 1, PriceOutput: 5, PriceCached: 0.1, Tools: true, Vision: true, Streaming: true},
	{Provider: "deepseek", Name: "deepseek-chat", ContextWindow: 128_000, MaxOutput: 8_192, PriceInput: 0.27, PriceOutput: 1.1, PriceCached: 0.07, Tools: true, Streaming: true},
	{Provider: "deepseek", Name: "deepseek-reasoner", ContextWindow: 128_000, MaxOutput: 64_000, PriceInput: 0.55, PriceOutput: 2.19, PriceCached: 0.14, Streaming: true},
	{Provider: "ollama", Name: "llama3.1", ContextWindow: 128_000, MaxOutput: 4_096, Tools: true, Streaming: true},
	{Provider: "ollama", Name: "qwen2.5", ContextWindow: 32_768, MaxOutput: 8_192, Tools: true, Streaming: true},
}
