//! The official Python SDKs against the fake LLM providers.
