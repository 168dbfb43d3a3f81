// mistral-tokenizer-js ships no types: its default export holds the vocabulary, the merges and encode.
declare module 'mistral-tokenizer-js' {
  const mistralTokenizer: {
    vocabById: string[];
    merges: Map<string, number>;
    encode(prompt: string, addBosToken?: boolean, addPrecedingSpace?: boolean): number[];
    decode(ids: number[], addBosToken?: boolean, addPrecedingSpace?: boolean): string;
  };
  export default mistralTokenizer;
}
