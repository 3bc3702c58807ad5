import GitRAGCore
