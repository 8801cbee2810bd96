'use strict';
/**
 * A GraphQL server: graphql-js 16.11.0 over node:http, with async resolvers
 * (users with their posts, each post's author, friends of friends), a
 * resolver that fails, variables, GET and POST. CommonJS `require('graphql')`:
 * the ES-module `import { graphql } from 'graphql'` is tested on its own in
 * packages.test.ts (issue 15). Prints `listening <port>`.
 */

const http = require('node:http');
const {
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  graphql,
} = require('graphql');

const tick = () => new Promise((resolve) => setImmediate(resolve));

const users = [
  { id: '1', name: 'Ada', friendIds: ['2', '3'] },
  { id: '2', name: 'Alan', friendIds: ['1'] },
  { id: '3', name: 'Grace', friendIds: ['1', '2'] },
];
const posts = [
  { id: 'p1', title: 'Notes on the Analytical Engine', authorId: '1' },
  { id: 'p2', title: 'On Computable Numbers', authorId: '2' },
  { id: 'p3', title: 'Computing Machinery and Intelligence', authorId: '2' },
  { id: 'p4', title: 'The Education of a Computer', authorId: '3' },
];

// The loaders a real server would put in front of a database.
async function userById(id) {
  await tick();
  return users.find((u) => u.id === id) ?? null;
}
async function postsBy(authorId) {
  await tick();
  return posts.filter((p) => p.authorId === authorId);
}

const Post = new GraphQLObjectType({
  name: 'Post',
  fields: () => ({
    id: { type: new GraphQLNonNull(GraphQLID) },
    title: { type: GraphQLString },
    author: { type: User, resolve: async (post) => userById(post.authorId) },
  }),
});

const User = new GraphQLObjectType({
  name: 'User',
  fields: () => ({
    id: { type: new GraphQLNonNull(GraphQLID) },
    name: { type: GraphQLString },
    posts: { type: new GraphQLList(Post), resolve: async (user) => postsBy(user.id) },
    postCount: {
      type: GraphQLInt,
      async resolve(user) {
        return (await postsBy(user.id)).length;
      },
    },
    friends: {
      type: new GraphQLList(User),
      resolve: async (user) => Promise.all(user.friendIds.map(userById)),
    },
    secret: {
      type: GraphQLString,
      async resolve(user) {
        await tick();
        throw new Error(`no access to ${user.name}'s secret`);
      },
    },
  }),
});

const Query = new GraphQLObjectType({
  name: 'Query',
  fields: {
    users: {
      type: new GraphQLList(User),
      async resolve() {
        await tick();
        return users;
      },
    },
    user: {
      type: User,
      args: { id: { type: new GraphQLNonNull(GraphQLID) } },
      resolve: async (_, { id }) => userById(id),
    },
  },
});

const Mutation = new GraphQLObjectType({
  name: 'Mutation',
  fields: {
    addPost: {
      type: Post,
      args: { authorId: { type: new GraphQLNonNull(GraphQLID) }, title: { type: new GraphQLNonNull(GraphQLString) } },
      async resolve(_, { authorId, title }) {
        if (!(await userById(authorId))) throw new Error(`no user ${authorId}`);
        const post = { id: `p${posts.length + 1}`, title, authorId };
        posts.push(post);
        return post;
      },
    },
  },
});

const schema = new GraphQLSchema({ query: Query, mutation: Mutation });

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/graphql') return send(res, 404, { errors: [{ message: `no route ${url.pathname}` }] });
  let params;
  if (req.method === 'GET') {
    params = {
      query: url.searchParams.get('query'),
      variables: JSON.parse(url.searchParams.get('variables') ?? 'null'),
    };
  } else if (req.method === 'POST') {
    try {
      params = JSON.parse(await readBody(req));
    } catch (err) {
      return send(res, 400, { errors: [{ message: `invalid JSON body: ${err.message}` }] });
    }
  } else {
    res.setHeader('allow', 'GET, POST');
    return send(res, 405, { errors: [{ message: `method ${req.method} not allowed` }] });
  }
  const result = await graphql({ schema, source: params.query ?? '', variableValues: params.variables });
  // A request that does not parse or validate gets no `data`: 400, as graphql-http does.
  send(res, 'data' in result ? 200 : 400, result);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 500, { errors: [{ message: err.message }] }));
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
