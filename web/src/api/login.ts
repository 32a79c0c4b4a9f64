import { graphql } from '../gql'

/** Signing in: the pair of tokens a session starts with. */
export const Login = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      expiresIn
    }
  }
`)
