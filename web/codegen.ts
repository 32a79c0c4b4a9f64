// Typed operations from the exported client schema: every `graphql(...)` document in src/ is
// checked against ../schema.graphql and gets its result and variable types in src/gql/.
import type { CodegenConfig } from '@graphql-codegen/cli'

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,vue}', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', Date: 'string', Decimal: 'string', JSON: 'unknown', UUID: 'string' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
}

export default config
